#include "adapters/http/header_values.h"

#include <algorithm>
#include <cstdint>

namespace ordinal {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
    const auto semi = content_type.find(';');
    const std::string_view type = trim(content_type.substr(0, semi));
    const bool json = iequals(type, "application/json") ||
                      (istarts_with(type, "application/") && iends_with(type, "+json"));
    if (!json) return false;
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : content_type.substr(semi + 1);
    while (!params.empty()) {
        const auto next = params.find(';');
        const std::string_view param = trim(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "charset"))
            continue;
        std::string_view value = trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (!iequals(value, "utf-8") && !iequals(value, "utf8")) return false;
    }
    return true;
}

std::optional<std::chrono::milliseconds> parse_consistency_wait(std::string_view value) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    std::int64_t ms = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        // Saturate: any value past the cap means the cap, however many digits it has.
        if (ms <= kMaxConsistencyWait.count()) ms = ms * 10 + (c - '0');
    }
    return std::chrono::milliseconds(std::min<std::int64_t>(ms, kMaxConsistencyWait.count()));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Walk the longer length so an early length mismatch does not shortcut the loop.
    const std::size_t n = std::max(a.size(), b.size());
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
        diff |= static_cast<unsigned>(x ^ y);
    }
    // A volatile read keeps the compiler from turning the loop into an early-exit comparison.
    volatile unsigned result = diff;
    return result == 0;
}

bool bearer_token_matches(const std::optional<std::string>& authorization, std::string_view token) {
    if (!authorization) return false;
    std::string_view v = trim(*authorization);
    if (v.size() < 7 || !iequals(v.substr(0, 7), "bearer ")) return false;
    v = trim(v.substr(7));
    return constant_time_equal(v, token);
}

}  // namespace ordinal
