#pragma once
// The write-model rules, as pure functions: given a command and the current state, either the
// next state plus the event to record, or the reason the command is rejected.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/domain_error.h"
#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "domain/product.h"

namespace ordinal {

struct ProductDecision {
    Product next;
    ProductUpserted event;
};

struct OrderDecision {
    Order next;
    std::vector<Product> products_next;  // products whose stock changed
    EventData event;
};

// The order state machine: PLACED -> PAID -> SHIPPED, and PLACED | PAID -> CANCELLED.
bool order_transition_allowed(OrderStatus from, OrderStatus to);

Expected<ProductDecision, DomainError> decide_upsert_product(const UpsertProduct& cmd,
                                                             const std::optional<Product>& current);

// `products[i]` is the current state of `cmd.items[i].sku` (nullopt if unknown).
Expected<OrderDecision, DomainError> decide_place_order(
    const PlaceOrder& cmd, std::span<const std::optional<Product>> products,
    const std::string& now);

Expected<OrderDecision, DomainError> decide_pay_order(const PayOrder& cmd,
                                                      const std::optional<Order>& order,
                                                      const std::string& now);

Expected<OrderDecision, DomainError> decide_ship_order(const ShipOrder& cmd,
                                                       const std::optional<Order>& order,
                                                       const std::string& now);

// `products[i]` is the current state of `order->lines[i].sku`.
Expected<OrderDecision, DomainError> decide_cancel_order(
    const CancelOrder& cmd, const std::optional<Order>& order,
    std::span<const std::optional<Product>> products, const std::string& now);

}  // namespace ordinal
