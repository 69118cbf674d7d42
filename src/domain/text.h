#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// Number of Unicode code points in a UTF-8 string, or nullopt if it is not valid UTF-8
// (overlong forms, surrogates and values past U+10FFFF are invalid).
std::optional<std::size_t> utf8_code_points(std::string_view s);

// `s` with every byte that does not begin a valid UTF-8 sequence, and every NUL, replaced by
// U+FFFD: text any store's text column and any JSON writer accepts.
std::string printable_utf8(std::string_view s);

}  // namespace ordinal
