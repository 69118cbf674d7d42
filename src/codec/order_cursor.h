#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "ports/read_store.h"

namespace ordinal {

// Opaque paging cursor for a user's order list.
std::string encode_order_cursor(const OrderCursor& cursor);
std::optional<OrderCursor> decode_order_cursor(std::string_view text);  // nullopt if malformed

}  // namespace ordinal
