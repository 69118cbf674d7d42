#pragma once
// Which change of the read model each event makes: the one rule both read stores' projections
// (postgres/pg_projection, sqlite/sqlite_projection) follow. The statements that make each
// change are each store's, in its own dialect; `Changes` has
//   upsert_product(const Event&, const ProductUpserted&)  fenced by version; stock only over a
//                                                         lower stock_seq
//   insert_order(const Event&, const OrderPlaced&)        once: a row already there holds it
//   set_order_status(const Event&, OrderStatus)           fenced by version
//   apply_stock_changes(const std::vector<StockChange>&)  each only over a lower stock_seq
// Header-only and library-free, like batching_writer_support.h.
#include <type_traits>
#include <variant>

#include "domain/events.h"
#include "domain/order.h"

namespace ordinal::read_model {

template <class Changes>
void apply_event(Changes& changes, const Event& e) {
    std::visit(
        [&](const auto& d) {
            using T = std::decay_t<decltype(d)>;
            if constexpr (std::is_same_v<T, ProductUpserted>) {
                changes.upsert_product(e, d);
            } else if constexpr (std::is_same_v<T, OrderPlaced>) {
                changes.insert_order(e, d);
                changes.apply_stock_changes(d.stock_changes);
            } else if constexpr (std::is_same_v<T, OrderPaid>) {
                changes.set_order_status(e, OrderStatus::Paid);
            } else if constexpr (std::is_same_v<T, OrderShipped>) {
                changes.set_order_status(e, OrderStatus::Shipped);
            } else {
                static_assert(std::is_same_v<T, OrderCancelled>, "an event the read model ignores");
                changes.set_order_status(e, OrderStatus::Cancelled);
                changes.apply_stock_changes(d.stock_changes);
            }
        },
        e.data);
}

}  // namespace ordinal::read_model
