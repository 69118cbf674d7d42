#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace ordinal {

// Number of Unicode code points in a UTF-8 string, or nullopt if it is not valid UTF-8
// (overlong forms, surrogates and values past U+10FFFF are invalid).
std::optional<std::size_t> utf8_code_points(std::string_view s);

}  // namespace ordinal
