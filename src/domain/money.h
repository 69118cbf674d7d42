#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ordinal {

// Money is integer minor units with an ISO-4217 code; no floating point anywhere near it.
bool is_currency_code(std::string_view code);  // exactly three upper-case ASCII letters

// Overflow-checked arithmetic for totals that must fit a signed 64-bit integer.
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b);
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b);

}  // namespace ordinal
