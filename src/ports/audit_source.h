#pragma once
// What `ordinal verify` reads: a consistent snapshot of each store, streamed in a fixed order so
// the checker can walk the write log, the write model and the read model side by side with
// memory that does not grow with the number of events.
//
// Order: stream ids, order ids and skus ascend bytewise (memcmp, PostgreSQL COLLATE "C"), and a
// stream's events ascend by version, the same order in every store, so two stores can be merged.
//
// Failures are values (StoreError); nothing throws. Not thread-safe: one audit, one thread.
// Cursors borrow their audit's snapshot and must not outlive it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "domain/product.h"
#include "ports/read_store.h"
#include "ports/store_error.h"

namespace ordinal {

// Rows of one ordered query over a snapshot.
template <class Row>
class AuditCursor {
  public:
    virtual ~AuditCursor() = default;
    // The next row, or nullopt once the rows are exhausted.
    virtual Expected<std::optional<Row>, StoreError> next() = 0;
};

// The idempotency record stored under an event's causation id (the command's key).
struct IdempotencyLink {
    std::string event_id;  // the event the record answers repeats with
    std::int64_t created_ms = 0;
};

struct AuditedEvent {
    std::int64_t seq = 0;         // outbox order
    std::int64_t created_ms = 0;  // the writer's wall clock at commit
    Event event;
    std::optional<IdempotencyLink> record;  // nullopt: no record (never written, or expired)
};

// A row of the read model's product view. version 0: a placeholder holding only the stock that
// orders' stock changes brought before the product's first ProductUpserted was applied.
struct ProductViewRow {
    ProductView view;
    std::int64_t stock_seq = 0;
};

struct OutboxAudit {
    std::int64_t pending = 0;  // committed, not yet published
    std::optional<std::int64_t> oldest_pending_created_ms;
};

// The write store: event log (which is also the outbox), write model, idempotency records.
class WriteAudit {
  public:
    virtual ~WriteAudit() = default;

    // The unpublished events. Before begin_snapshot(): as of now; after it: in the snapshot.
    virtual Expected<OutboxAudit, StoreError> outbox() = 0;

    // Takes the snapshot every later read sees; returns once it is fixed. Once only.
    virtual Expected<void, StoreError> begin_snapshot() = 0;

    // The events of every stream of `type`, by stream id then version, each with the idempotency
    // record of its causation id.
    virtual Expected<std::unique_ptr<AuditCursor<AuditedEvent>>, StoreError> events(
        StreamType type) = 0;
    virtual Expected<std::unique_ptr<AuditCursor<Product>>, StoreError> products() = 0;  // by sku
    virtual Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() = 0;  // by order id
    virtual Expected<std::int64_t, StoreError> idempotency_records() = 0;            // how many
};

// The read model.
class ReadAudit {
  public:
    virtual ~ReadAudit() = default;
    // As WriteAudit::begin_snapshot.
    virtual Expected<void, StoreError> begin_snapshot() = 0;
    virtual Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() = 0;  // by order id
    virtual Expected<std::unique_ptr<AuditCursor<ProductViewRow>>, StoreError> products() = 0;
};

}  // namespace ordinal
