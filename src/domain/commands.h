#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ordinal {

// Commands after field validation: every string and number here is within its documented range.
struct UpsertProduct {
    std::string sku;
    std::string name;
    std::string currency;
    std::int64_t price_minor = 0;
    std::optional<std::int64_t> stock;  // nullopt = unlimited
};

struct OrderItem {
    std::string sku;
    std::int64_t qty = 0;
};

struct PlaceOrder {
    std::string order_id;  // assigned by the service before the command is executed
    std::string user_id;
    std::string currency;
    std::vector<OrderItem> items;
};

struct PayOrder {
    std::string order_id;
    std::optional<std::int64_t> expected_version;
    std::string payment_ref;
    std::int64_t amount_minor = 0;
};

struct ShipOrder {
    std::string order_id;
    std::optional<std::int64_t> expected_version;
};

struct CancelOrder {
    std::string order_id;
    std::optional<std::int64_t> expected_version;
    std::string reason;
};

using Command = std::variant<UpsertProduct, PlaceOrder, PayOrder, ShipOrder, CancelOrder>;

// "upsert_product", "place_order", ... (metric labels and idempotency fingerprints)
const char* command_name(const Command& c);

}  // namespace ordinal
