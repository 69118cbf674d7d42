#pragma once
// The write store's rows and the statements that read and write them, shared by the writers'
// transactions and the store's pooled connections. All throw PgFailure (Internal for a row that
// cannot be decoded).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "domain/events.h"
#include "domain/order.h"
#include "domain/product.h"
#include "ports/command_types.h"
#include "ports/write_store.h"

namespace ordinal::pg {

std::optional<IdempotencyRecord> select_idempotency(Connection& conn, const std::string& key);
void insert_idempotency(Connection& conn, const IdempotencyRecord& record);

// `for_update` locks the row until the transaction ends (writers serialize per row, also
// across processes).
std::optional<Product> select_product(Connection& conn, const std::string& sku, bool for_update);
void upsert_product(Connection& conn, const Product& product);

std::optional<Order> select_order(Connection& conn, const std::string& order_id, bool for_update);

// Row `i` of a result whose columns are seq, event_id, stream_type, stream_id, version, type,
// occurred_at, causation_id, schema_version, data (the events table's, in order). Throws
// StoreFailure on a corrupt row.
StoredEvent read_event(const Result& r, int i);

// Row `i` of a result whose columns are sku, name, currency, price_minor, stock, reserved,
// stock_seq, version.
Product read_product(const Result& r, int i);

// Row `i` of a result whose columns are order_id, user_id, status, currency, lines/items (JSON),
// total_minor, version, created_at, updated_at (the write model's orders and the read model's
// orders_view share that layout). Throws StoreFailure on a corrupt row.
Order read_order(const Result& r, int i);
void upsert_order(Connection& conn, const Order& order);

// Locks, in one fixed order (orders by id, then products by sku), every existing row a batch of
// commands is going to change, so batches on different connections never deadlock on them.
void lock_rows(Connection& conn, const std::vector<std::string>& order_ids,
               const std::vector<std::string>& skus);

// Appends an event and its outbox row (the relay finds it there once this transaction commits).
// `trace` goes in the row's trace columns (empty: NULL).
void insert_event(Connection& conn, const Event& event, const TraceContext& trace,
                  std::int64_t created_ms);

// ---- Whole-batch statements (the writers' fast path: two round trips per batch) -------------
// Built here, sent by the writer in pipelines; each read_* reads its statement's result.

// Locks like lock_rows and returns the locked rows (existing ones only), in lock order.
Statement lock_orders_statement(const std::vector<std::string>& order_ids);
std::vector<Order> read_orders(const Result& r);
Statement lock_products_statement(const std::vector<std::string>& skus,
                                  const std::vector<std::string>& order_ids);
std::vector<Product> read_products(const Result& r);
// The idempotency records among `keys`.
Statement idempotency_many_statement(const std::vector<std::string>& keys);
std::vector<IdempotencyRecord> read_idempotency_records(const Result& r);

struct PendingEvent {
    Event event;
    std::int64_t created_ms = 0;
    TraceContext trace{};
};
// A batch's effects in ONE statement: upserts the final state of each product and order,
// inserts the events (seq in vector order) with their outbox rows, and the idempotency records.
// A unique violation (a key or stream version taken by a concurrent transaction) fails the
// whole statement.
Statement write_batch_statement(const std::vector<Product>& products,
                                const std::vector<Order>& orders,
                                const std::vector<PendingEvent>& events,
                                const std::vector<IdempotencyRecord>& records);

std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit);
// Up to `limit` unpublished events (the outbox_pending rows) in seq order: committed ones only,
// and no cursor to skip past an event that commits late.
std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit);
// The same, restricted to the outbox partitions `owned` (stream_hash mod `partitions`), and
// leaving out the seqs of `out` (a relay's events on the bus, not yet marked); `form` says
// whether each row is decoded or handed out as its envelope (ports/write_store.h).
std::vector<StoredEvent> select_pending_events_in(Connection& conn, std::int64_t partitions,
                                                  const std::vector<std::int64_t>& owned,
                                                  std::size_t limit,
                                                  const std::vector<std::int64_t>& out,
                                                  EventForm form = EventForm::Decoded);
// Deletes the events' outbox rows, moves relay_state.published_seq forward (stats only) and
// records the relay batch's time row (ports/batch_times.h), deleting the rows older than
// `prune_before` when given: one statement, so the batch time costs no round trip.
void mark_events_published(Connection& conn, const std::vector<std::int64_t>& seqs,
                           std::int64_t published_ms, std::optional<std::int64_t> prune_before);

StreamType parse_stored_stream_type(const std::string& text);

}  // namespace ordinal::pg
