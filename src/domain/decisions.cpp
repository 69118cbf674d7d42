#include "domain/decisions.h"

#include <string_view>

#include "domain/money.h"

namespace ordinal {
namespace {

Unexpected<DomainError> reject(DomainError::Code code, std::string message) {
    DomainError e;
    e.code = code;
    e.message = std::move(message);
    return unexpected(std::move(e));
}

Unexpected<DomainError> reject_sku(DomainError::Code code, std::string message,
                                   const std::string& sku) {
    auto u = reject(code, std::move(message));
    u.error.sku = sku;
    return u;
}

// Shared guard of every command on an existing order: it must exist, match the expected
// version, and allow the transition.
std::optional<Unexpected<DomainError>> check_order_transition(const std::optional<Order>& order,
                                                              std::optional<std::int64_t> expected,
                                                              OrderStatus to) {
    if (!order) return reject(DomainError::Code::NotFound, "order not found");
    if (expected && *expected != order->version) {
        auto u = reject(DomainError::Code::VersionConflict,
                        "the order has moved on since the expected version");
        u.error.current_version = order->version;
        return u;
    }
    const OrderStatus from = order->status;
    if (!order_transition_allowed(from, to)) {
        auto u = reject(DomainError::Code::InvalidTransition,
                        std::string("an order in status ") + std::string(order_status_name(from)) +
                            " cannot become " + std::string(order_status_name(to)));
        u.error.from = std::string(order_status_name(from));
        u.error.to = std::string(order_status_name(to));
        return u;
    }
    return std::nullopt;
}

Order advanced(const Order& order, OrderStatus status, const std::string& now) {
    Order next = order;
    next.status = status;
    next.version = order.version + 1;
    next.updated_at = now;
    return next;
}

}  // namespace

bool order_transition_allowed(OrderStatus from, OrderStatus to) {
    return (from == OrderStatus::Placed && to == OrderStatus::Paid) ||
           (from == OrderStatus::Paid && to == OrderStatus::Shipped) ||
           ((from == OrderStatus::Placed || from == OrderStatus::Paid) &&
            to == OrderStatus::Cancelled);
}

Expected<ProductDecision, DomainError> decide_upsert_product(
    const UpsertProduct& cmd, const std::optional<Product>& current) {
    Product next = current.value_or(Product{});
    next.sku = cmd.sku;
    next.name = cmd.name;
    next.currency = cmd.currency;
    next.price_minor = cmd.price_minor;
    next.stock = cmd.stock;
    next.stock_seq += 1;
    next.version += 1;
    ProductUpserted ev{next.sku,         next.name,  next.currency,
                       next.price_minor, next.stock, next.stock_seq};
    return ProductDecision{std::move(next), std::move(ev)};
}

Expected<OrderDecision, DomainError> decide_place_order(
    const PlaceOrder& cmd, std::span<const std::optional<Product>> products,
    const std::string& now) {
    OrderPlaced ev;
    ev.user_id = cmd.user_id;
    ev.currency = cmd.currency;
    std::vector<Product> next_products;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < cmd.items.size(); ++i) {
        const OrderItem& item = cmd.items[i];
        const std::optional<Product>& p = i < products.size() ? products[i] : std::nullopt;
        if (!p)
            return reject_sku(DomainError::Code::UnknownSku, "unknown sku " + item.sku, item.sku);
        if (p->currency != cmd.currency) {
            return reject_sku(
                DomainError::Code::CurrencyMismatch,
                "sku " + item.sku + " is priced in " + p->currency + ", not " + cmd.currency,
                item.sku);
        }
        const auto line_total = checked_mul(p->price_minor, item.qty);
        const auto new_total = line_total ? checked_add(total, *line_total) : std::nullopt;
        if (!new_total)
            return reject(DomainError::Code::TotalOverflow,
                          "order total does not fit a signed 64-bit integer");
        total = *new_total;
        Product next = *p;
        if (next.stock) {
            if (*next.stock < item.qty) {
                return reject_sku(DomainError::Code::InsufficientStock,
                                  "not enough stock for sku " + item.sku, item.sku);
            }
            *next.stock -= item.qty;
        }
        next.reserved += item.qty;
        next.stock_seq += 1;
        ev.items.push_back(OrderLine{item.sku, item.qty, p->price_minor});
        ev.stock_changes.push_back(StockChange{next.sku, next.stock, next.stock_seq});
        next_products.push_back(std::move(next));
    }
    ev.total_minor = total;
    Order order;
    order.id = cmd.order_id;
    order.user_id = cmd.user_id;
    order.status = OrderStatus::Placed;
    order.currency = cmd.currency;
    order.lines = ev.items;
    order.total_minor = total;
    order.version = 1;
    order.created_at = now;
    order.updated_at = now;
    return OrderDecision{std::move(order), std::move(next_products), EventData{std::move(ev)}};
}

Expected<OrderDecision, DomainError> decide_pay_order(const PayOrder& cmd,
                                                      const std::optional<Order>& order,
                                                      const std::string& now) {
    if (auto bad = check_order_transition(order, cmd.expected_version, OrderStatus::Paid))
        return *bad;
    if (cmd.amount_minor != order->total_minor) {
        return reject(DomainError::Code::AmountMismatch,
                      "amountMinor " + std::to_string(cmd.amount_minor) +
                          " does not equal the order total " + std::to_string(order->total_minor));
    }
    return OrderDecision{advanced(*order, OrderStatus::Paid, now),
                         {},
                         EventData{OrderPaid{cmd.payment_ref, cmd.amount_minor}}};
}

Expected<OrderDecision, DomainError> decide_ship_order(const ShipOrder& cmd,
                                                       const std::optional<Order>& order,
                                                       const std::string& now) {
    if (auto bad = check_order_transition(order, cmd.expected_version, OrderStatus::Shipped))
        return *bad;
    return OrderDecision{
        advanced(*order, OrderStatus::Shipped, now), {}, EventData{OrderShipped{}}};
}

Expected<OrderDecision, DomainError> decide_cancel_order(
    const CancelOrder& cmd, const std::optional<Order>& order,
    std::span<const std::optional<Product>> products, const std::string& now) {
    if (auto bad = check_order_transition(order, cmd.expected_version, OrderStatus::Cancelled))
        return *bad;
    OrderCancelled ev;
    ev.reason = cmd.reason;
    ev.cancelled_from = order->status;
    std::vector<Product> next_products;
    for (std::size_t i = 0; i < order->lines.size() && i < products.size(); ++i) {
        if (!products[i]) continue;  // products are never deleted; defensive only
        Product next = *products[i];
        if (next.stock) *next.stock += order->lines[i].qty;
        next.reserved -= order->lines[i].qty;
        next.stock_seq += 1;
        ev.stock_changes.push_back(StockChange{next.sku, next.stock, next.stock_seq});
        next_products.push_back(std::move(next));
    }
    return OrderDecision{advanced(*order, OrderStatus::Cancelled, now), std::move(next_products),
                         EventData{std::move(ev)}};
}

const char* command_name(const Command& c) {
    static constexpr const char* kNames[] = {"upsert_product", "place_order", "pay_order",
                                             "ship_order", "cancel_order"};
    return kNames[c.index()];
}

StreamType stream_type_of(const EventData& d) {
    return std::holds_alternative<ProductUpserted>(d) ? StreamType::Product : StreamType::Order;
}

int schema_version_of(const EventData& d) {
    return std::holds_alternative<OrderCancelled>(d) ? 2 : 1;
}

std::string_view event_type_name(const EventData& d) {
    static constexpr std::string_view kNames[] = {"ProductUpserted", "OrderPlaced", "OrderPaid",
                                                  "OrderShipped", "OrderCancelled"};
    return kNames[d.index()];
}

}  // namespace ordinal
