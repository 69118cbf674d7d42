#pragma once
// Field rules of docs/design.md. Each returns nullopt when the value is valid, or a human message.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

inline constexpr std::size_t kMaxOrderItems = 100;
inline constexpr std::int64_t kMaxItemQty = 10000;

std::optional<std::string> check_sku(std::string_view sku);
// Free text (name, paymentRef, reason): valid UTF-8, the code points counted, no control
// characters other than tab, line feed and carriage return.
std::optional<std::string> check_name(std::string_view name);  // 1-200 code points
std::optional<std::string> check_currency(std::string_view code);
std::optional<std::string> check_payment_ref(std::string_view ref);  // 1-200 code points
std::optional<std::string> check_reason(std::string_view reason);    // 1-500 code points
std::optional<std::string> check_non_negative(std::int64_t value);
std::optional<std::string> check_qty(std::int64_t qty);
std::optional<std::string> check_uuid(std::string_view id);

}  // namespace ordinal
