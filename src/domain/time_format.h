#pragma once
#include <cstdint>
#include <string>

namespace ordinal {

// RFC 3339 UTC with milliseconds, e.g. "2026-11-27T09:51:01.123Z".
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace ordinal
