#pragma once
// Folding a stream's events back into the state they produced: what the write model must hold
// after them and what the read model must show once it has applied them. Pure functions, used by
// `ordinal verify` to judge stored rows against the event log.
#include <optional>
#include <string>

#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "domain/product.h"

namespace ordinal {

// The order after `e`, given the order before it (nullopt before the stream's first event). The
// error (a sentence for an operator) says why `e` cannot follow: not an order event, a transition
// the state machine forbids, a payment of another amount than the total, an OrderPlaced whose
// total or stock changes do not match its items, a cancellation whose stock changes do not match
// the order's lines. Versions are not checked here: the caller sees the whole stream.
Expected<Order, std::string> replay_order_event(const std::optional<Order>& before, const Event& e);

// The product after `e`: name, currency, price, the stock figure the upsert set with its
// stock_seq, and version. `reserved` is carried over: it follows orders, not product events.
Expected<Product, std::string> replay_product_event(const std::optional<Product>& before,
                                                    const Event& e);

}  // namespace ordinal
