#include "domain/consistency_token.h"

#include <charconv>

#include "domain/base64url.h"
#include "domain/uuid.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

constexpr std::string_view kPrefix = "ct1.";
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parse_entry(std::string_view entry, VersionVector& out) {
    if (entry.size() < 5 || entry[1] != ':') return false;
    StreamKey key;
    if (entry[0] == 'o') {
        key.type = StreamType::Order;
    } else if (entry[0] == 'p') {
        key.type = StreamType::Product;
    } else {
        return false;
    }
    const auto at = entry.rfind('@');
    if (at == std::string_view::npos || at < 2) return false;
    const std::string_view id = entry.substr(2, at - 2);
    const std::string_view ver = entry.substr(at + 1);
    if (key.type == StreamType::Order) {
        auto canon = canonical_uuid(id);
        if (!canon) return false;
        key.id = std::move(*canon);
    } else {
        if (check_sku(id)) return false;
        key.id = std::string(id);
    }
    std::int64_t version = 0;
    const auto [ptr, ec] = std::from_chars(ver.data(), ver.data() + ver.size(), version);
    if (ec != std::errc() || ptr != ver.data() + ver.size() || version < 1 || ver[0] == '0')
        return false;
    auto& slot = out[key];
    if (version > slot) slot = version;
    return true;
}

bool parse_one(std::string_view token, VersionVector& out) {
    if (token.substr(0, kPrefix.size()) != kPrefix) return false;
    const auto raw = unbase64url(token.substr(kPrefix.size()));
    if (!raw || raw->empty()) return false;
    std::string_view rest = *raw;
    while (true) {
        const auto semi = rest.find(';');
        if (!parse_entry(rest.substr(0, semi), out)) return false;
        if (out.size() > kMaxTokenStreams) return false;
        if (semi == std::string_view::npos) return true;
        rest.remove_prefix(semi + 1);
    }
}

}  // namespace

std::string encode_consistency_token(const VersionVector& versions) {
    std::string raw;
    for (const auto& [key, version] : versions) {
        if (!raw.empty()) raw.push_back(';');
        raw.push_back(key.type == StreamType::Order ? 'o' : 'p');
        raw.push_back(':');
        raw += key.id;
        raw.push_back('@');
        raw += std::to_string(version);
    }
    return std::string(kPrefix) + base64url(raw);
}

std::optional<VersionVector> parse_consistency_tokens(std::string_view header) {
    VersionVector out;
    while (true) {
        const auto comma = header.find(',');
        if (!parse_one(trim(header.substr(0, comma)), out)) return std::nullopt;
        if (comma == std::string_view::npos) return out;
        header.remove_prefix(comma + 1);
    }
}

void merge_into(VersionVector& into, const VersionVector& from) {
    for (const auto& [key, version] : from) {
        auto& slot = into[key];
        if (version > slot) slot = version;
    }
}

}  // namespace ordinal
