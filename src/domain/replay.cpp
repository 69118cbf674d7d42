#include "domain/replay.h"

#include <type_traits>

#include "domain/decisions.h"
#include "domain/money.h"

namespace ordinal {
namespace {

using OrderStep = Expected<Order, std::string>;

Unexpected<std::string> refuse(std::string why) {
    return unexpected(std::move(why));
}

// A stock change per line, for the line's sku, in line order: what decide_place_order and
// decide_cancel_order append.
std::optional<std::string> stock_changes_mismatch(const std::vector<OrderLine>& lines,
                                                  const std::vector<StockChange>& changes) {
    if (changes.size() != lines.size()) {
        return std::to_string(changes.size()) + " stock changes for " +
               std::to_string(lines.size()) + " lines";
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (changes[i].sku != lines[i].sku) {
            return "stock change " + std::to_string(i) + " is for sku " + changes[i].sku +
                   ", the line for " + lines[i].sku;
        }
    }
    return std::nullopt;
}

OrderStep transition(const std::optional<Order>& before, const Event& e, OrderStatus to) {
    if (!before) {
        return refuse(std::string(event_type_name(e.data)) + " before the order was placed");
    }
    if (!order_transition_allowed(before->status, to)) {
        return refuse(std::string(event_type_name(e.data)) + " on an order in status " +
                      std::string(order_status_name(before->status)));
    }
    Order next = *before;
    next.status = to;
    next.version = e.version;
    next.updated_at = e.occurred_at;
    return next;
}

OrderStep apply(const std::optional<Order>& before, const Event& e, const OrderPlaced& d) {
    if (before) return refuse("OrderPlaced on an order placed before");
    std::optional<std::int64_t> total = 0;
    for (const OrderLine& line : d.items) {
        const auto line_total = checked_mul(line.qty, line.unit_price_minor);
        total = line_total && total ? checked_add(*total, *line_total) : std::nullopt;
    }
    if (total != d.total_minor) {
        return refuse("OrderPlaced total " + std::to_string(d.total_minor) +
                      " is not the sum of its lines");
    }
    if (auto bad = stock_changes_mismatch(d.items, d.stock_changes)) {
        return refuse("OrderPlaced has " + *bad);
    }
    Order o;
    o.id = e.stream.id;
    o.user_id = d.user_id;
    o.status = OrderStatus::Placed;
    o.currency = d.currency;
    o.lines = d.items;
    o.total_minor = d.total_minor;
    o.version = e.version;
    o.created_at = e.occurred_at;
    o.updated_at = e.occurred_at;
    return o;
}

OrderStep apply(const std::optional<Order>& before, const Event& e, const OrderPaid& d) {
    auto next = transition(before, e, OrderStatus::Paid);
    if (next && d.amount_minor != next->total_minor) {
        return refuse("OrderPaid amount " + std::to_string(d.amount_minor) +
                      " is not the order total " + std::to_string(next->total_minor));
    }
    return next;
}

OrderStep apply(const std::optional<Order>& before, const Event& e, const OrderShipped&) {
    return transition(before, e, OrderStatus::Shipped);
}

OrderStep apply(const std::optional<Order>& before, const Event& e, const OrderCancelled& d) {
    if (before && d.cancelled_from && *d.cancelled_from != before->status) {
        return refuse("OrderCancelled says it was cancelled from " +
                      std::string(order_status_name(*d.cancelled_from)) + ", the order was " +
                      std::string(order_status_name(before->status)));
    }
    auto next = transition(before, e, OrderStatus::Cancelled);
    if (next) {
        if (auto bad = stock_changes_mismatch(next->lines, d.stock_changes)) {
            return refuse("OrderCancelled has " + *bad);
        }
    }
    return next;
}

OrderStep apply(const std::optional<Order>&, const Event&, const ProductUpserted&) {
    return refuse("ProductUpserted on an order stream");
}

}  // namespace

Expected<Order, std::string> replay_order_event(const std::optional<Order>& before,
                                                const Event& e) {
    return std::visit([&](const auto& data) { return apply(before, e, data); }, e.data);
}

Expected<Product, std::string> replay_product_event(const std::optional<Product>& before,
                                                    const Event& e) {
    const auto* d = std::get_if<ProductUpserted>(&e.data);
    if (!d) {
        return refuse(std::string(event_type_name(e.data)) + " on a product stream");
    }
    if (d->sku != e.stream.id) return refuse("ProductUpserted for sku " + d->sku);
    Product next = before.value_or(Product{});
    next.sku = d->sku;
    next.name = d->name;
    next.currency = d->currency;
    next.price_minor = d->price_minor;
    next.stock = d->stock;
    next.stock_seq = d->stock_seq;
    next.version = e.version;
    return next;
}

}  // namespace ordinal
