// Hand-written on purpose: Debian 12 offers no UUIDv7 (libuuid 2.38 has none before 2.41, Boost
// 1.74's Boost.Uuid none before 1.86), and its string parsers accept braces and undashed forms
// this contract refuses; domain/ stays library-free anyway.
#include "domain/uuid.h"

namespace ordinal {

std::optional<std::string> canonical_uuid(std::string_view text) {
    if (text.size() != 36) return std::nullopt;
    std::string out(36, '-');
    for (std::size_t i = 0; i < 36; ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return std::nullopt;
            continue;
        }
        if (c >= '0' && c <= '9') {
            out[i] = c;
        } else if (c >= 'a' && c <= 'f') {
            out[i] = c;
        } else if (c >= 'A' && c <= 'F') {
            out[i] = static_cast<char>(c - 'A' + 'a');
        } else {
            return std::nullopt;
        }
    }
    return out;
}

std::string format_uuid(const std::array<std::uint8_t, 16>& b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0xF]);
    }
    return out;
}

std::string make_uuid_v7(std::uint64_t unix_ms, const std::array<std::uint8_t, 10>& random) {
    std::array<std::uint8_t, 16> b{};
    for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(unix_ms >> (8 * (5 - i)));
    for (int i = 0; i < 10; ++i) b[6 + i] = random[i];
    b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 4122 variant
    return format_uuid(b);
}

}  // namespace ordinal
