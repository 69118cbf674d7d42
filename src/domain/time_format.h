#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-27T09:51:01.123Z".
std::string format_rfc3339_ms(std::int64_t unix_ms);

// The inverse of format_rfc3339_ms, for exactly that form; nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace ordinal
