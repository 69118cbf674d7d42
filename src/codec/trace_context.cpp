#include "codec/trace_context.h"

#include <openssl/rand.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

namespace ordinal {
namespace {

constexpr std::size_t kVersion00Size = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2
constexpr std::size_t kMaxTracestateMembers = 32;
constexpr std::size_t kTracestateKeepChars = 512;
constexpr std::size_t kTracestateLongMember = 128;

bool lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool all_lower_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), lower_hex);
}

bool all_zero(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

int hex_value(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string to_hex(const std::uint8_t* bytes, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0xf]);
    }
    return out;
}

// lcalpha / DIGIT / "_" / "-" / "*" / "/"
bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
           c == '/';
}

bool all_key_chars(std::string_view s) {
    return std::all_of(s.begin(), s.end(), key_char);
}

// simple-key = lcalpha 0*255(keychar)
// multi-tenant-key = (lcalpha / DIGIT) 0*240(keychar) "@" lcalpha 0*13(keychar)
bool valid_key(std::string_view key) {
    const auto at = key.find('@');
    if (at == std::string_view::npos) {
        return !key.empty() && key.size() <= 256 && key[0] >= 'a' && key[0] <= 'z' &&
               all_key_chars(key);
    }
    const std::string_view tenant = key.substr(0, at);
    const std::string_view system = key.substr(at + 1);
    const bool tenant_first = !tenant.empty() && ((tenant[0] >= 'a' && tenant[0] <= 'z') ||
                                                  (tenant[0] >= '0' && tenant[0] <= '9'));
    return tenant_first && tenant.size() <= 241 && all_key_chars(tenant) && !system.empty() &&
           system.size() <= 14 && system[0] >= 'a' && system[0] <= 'z' && all_key_chars(system);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool valid_value(std::string_view value) {
    if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
    return std::all_of(value.begin(), value.end(),
                       [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

std::string join(const std::vector<std::string_view>& members) {
    std::string out;
    for (std::string_view m : members) {
        if (!out.empty()) out += ',';
        out += m;
    }
    return out;
}

std::size_t joined_size(const std::vector<std::string_view>& members) {
    std::size_t n = members.empty() ? 0 : members.size() - 1;
    for (std::string_view m : members) n += m.size();
    return n;
}

}  // namespace

std::optional<Traceparent> parse_traceparent(std::string_view header) {
    const std::string_view h = trim_ows(header);
    if (h.size() < kVersion00Size) return std::nullopt;
    const std::string_view version = h.substr(0, 2);
    if (!all_lower_hex(version) || version == "ff") return std::nullopt;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
    // Version 00 has nothing after the flags; a later version may, after a '-'.
    if (version == "00" ? h.size() != kVersion00Size
                        : h.size() > kVersion00Size && h[kVersion00Size] != '-')
        return std::nullopt;
    const std::string_view trace_id = h.substr(3, 32);
    const std::string_view parent_id = h.substr(36, 16);
    const std::string_view flags = h.substr(53, 2);
    if (!all_lower_hex(trace_id) || all_zero(trace_id)) return std::nullopt;
    if (!all_lower_hex(parent_id) || all_zero(parent_id)) return std::nullopt;
    if (!all_lower_hex(flags)) return std::nullopt;
    return Traceparent{std::string(trace_id), std::string(parent_id),
                       static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]))};
}

std::optional<std::string> parse_tracestate(std::string_view header) {
    std::vector<std::string_view> members;
    std::set<std::string_view> keys;
    std::string_view rest = header;
    while (true) {
        const auto comma = rest.find(',');
        const std::string_view member = trim_ows(rest.substr(0, comma));
        if (!member.empty()) {
            const auto eq = member.find('=');
            if (eq == std::string_view::npos) return std::nullopt;
            const std::string_view key = member.substr(0, eq);
            if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return std::nullopt;
            if (!keys.insert(key).second) return std::nullopt;
            members.push_back(member);
            if (members.size() > kMaxTracestateMembers) return std::nullopt;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    if (joined_size(members) > kTracestateKeepChars) {
        std::erase_if(members, [](std::string_view m) { return m.size() > kTracestateLongMember; });
        while (joined_size(members) > kTracestateKeepChars) members.pop_back();
    }
    return join(members);
}

std::string format_traceparent(const Traceparent& tp) {
    const std::uint8_t flags[] = {tp.flags};
    return "00-" + tp.trace_id + "-" + tp.parent_id + "-" + to_hex(flags, 1);
}

TraceContext continue_trace(const std::optional<std::string>& traceparent,
                            const std::optional<std::string>& tracestate,
                            const std::array<std::uint8_t, 24>& random) {
    std::array<std::uint8_t, 24> bytes = random;
    // An all-zero id is invalid; a 2^-64 draw, but a fixed one keeps the output valid.
    if (std::all_of(bytes.begin(), bytes.begin() + 16, [](std::uint8_t b) { return b == 0; }))
        bytes[15] = 1;
    if (std::all_of(bytes.begin() + 16, bytes.end(), [](std::uint8_t b) { return b == 0; }))
        bytes[23] = 1;
    const std::string span_id = to_hex(bytes.data() + 16, 8);

    TraceContext out;
    std::optional<Traceparent> caller;
    if (traceparent) caller = parse_traceparent(*traceparent);
    if (caller) {
        // Only the sampled flag (bit 0) is defined in version 00; other bits are not passed on.
        out.traceparent = format_traceparent(Traceparent{
            caller->trace_id, span_id, static_cast<std::uint8_t>(caller->flags & 0x01)});
        if (tracestate) {
            if (auto state = parse_tracestate(*tracestate)) out.tracestate = std::move(*state);
        }
    } else {
        out.traceparent = format_traceparent(Traceparent{to_hex(bytes.data(), 16), span_id, 0});
    }
    return out;
}

TraceContext continue_trace(const std::optional<std::string>& traceparent,
                            const std::optional<std::string>& tracestate) {
    std::array<std::uint8_t, 24> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        // Only with a broken libcrypto (no entropy source): nothing a caller could handle.
        throw std::runtime_error("trace context: RAND_bytes failed");
    }
    return continue_trace(traceparent, tracestate, random);
}

}  // namespace ordinal
