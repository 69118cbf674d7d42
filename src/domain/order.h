#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ordinal {

enum class OrderStatus : std::uint8_t { Placed, Paid, Shipped, Cancelled };

std::string_view order_status_name(OrderStatus s);  // "PLACED", "PAID", ...
std::optional<OrderStatus> parse_order_status(std::string_view s);

struct OrderLine {
    std::string sku;
    std::int64_t qty = 0;
    std::int64_t unit_price_minor = 0;  // locked in at placement
};

struct Order {
    std::string id;
    std::string user_id;
    OrderStatus status = OrderStatus::Placed;
    std::string currency;
    std::vector<OrderLine> lines;
    std::int64_t total_minor = 0;
    std::int64_t version = 0;
    std::string created_at;  // RFC 3339 UTC, ms
    std::string updated_at;
};

}  // namespace ordinal
