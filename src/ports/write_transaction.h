#pragma once
#include <optional>
#include <stdexcept>
#include <string>

#include "domain/events.h"
#include "domain/order.h"
#include "domain/product.h"
#include "ports/command_types.h"
#include "ports/store_error.h"

namespace ordinal {

// Thrown by WriteTransaction methods when the store fails mid-transaction. It is the one
// exception in the core's error policy: it only unwinds from an adapter's WriteTransaction,
// through the shared command executor, back into the same adapter, which turns it into a
// StoreError value. It never escapes a port.
class StoreFailure : public std::runtime_error {
  public:
    explicit StoreFailure(StoreError e) : std::runtime_error(e.message), error(std::move(e)) {}
    StoreError error;
};

// The operations the command executor needs inside one write transaction (or savepoint).
// Implemented by each write-store adapter; not thread-safe: one transaction, one thread.
class WriteTransaction {
  public:
    virtual ~WriteTransaction() = default;
    virtual std::optional<IdempotencyRecord> find_idempotency(const std::string& key) = 0;
    virtual void insert_idempotency(const IdempotencyRecord& record) = 0;
    virtual std::optional<Product> load_product(const std::string& sku) = 0;
    virtual void save_product(const Product& product) = 0;  // insert or update
    virtual std::optional<Order> load_order(const std::string& order_id) = 0;
    virtual void save_order(const Order& order) = 0;  // insert or update
    // `trace` is kept beside the event in the outbox and sent on with it (empty: none).
    virtual void append_event(const Event& event, const TraceContext& trace) = 0;
};

}  // namespace ordinal
