#pragma once
// The write store's rows and the statements that read and write them, shared by the writer's
// transaction and the store's reader connections. All throw StoreFailure (Internal for a row
// that cannot be decoded: the file is corrupt or was written by an incompatible release).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/sqlite/sqlite_connection.h"
#include "domain/events.h"
#include "domain/order.h"
#include "domain/product.h"
#include "ports/command_types.h"
#include "ports/write_store.h"

namespace ordinal::sqlite {

// The current row of `q` decoded, its columns in table order from the first:
//   events:   seq, event_id, stream_type, stream_id, version, type, occurred_at, causation_id,
//             schema_version, data (then, where the event log is read whole, traceparent and
//             tracestate)
//   products: sku, name, currency, price_minor, stock, reserved, stock_seq, version
//   orders (and the read model's orders_view): order_id, user_id, status, currency, lines
//             (items), total_minor, version, created_at, updated_at
StoredEvent read_event_row(const Query& q);
Product read_product_row(const Query& q);
Order read_order_row(const Query& q);

std::optional<IdempotencyRecord> select_idempotency(Connection& conn, const std::string& key);
void insert_idempotency(Connection& conn, const IdempotencyRecord& record);

std::optional<Product> select_product(Connection& conn, const std::string& sku);
void upsert_product(Connection& conn, const Product& product);

std::optional<Order> select_order(Connection& conn, const std::string& order_id);
void upsert_order(Connection& conn, const Order& order);

// Appends to the outbox; `created_ms` is the wall clock at commit time, for the outbox age.
// The event and its trace context (empty: NULL columns).
void insert_event(Connection& conn, const Event& event, const TraceContext& trace,
                  std::int64_t created_ms);

// Up to `limit` events with seq > after_seq, in seq order (the event log).
std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit);
// Up to `limit` events with seq > relay_state.published_seq, in seq order (the outbox).
std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit);

std::int64_t select_published_seq(Connection& conn);
// A relay batch marked published: published_seq = max(published_seq, last_seq) (marking is
// idempotent and never moves backwards) and the batch's time row (ports/batch_times.h), with the
// rows older than `prune_before` deleted when it is given. One writer relays in seq order, so a
// batch covers every seq from first_seq to last_seq and no other batch does.
struct RelayBatch {
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    std::int64_t published_ms = 0;
    std::optional<std::int64_t> prune_before;
};
void mark_relay_batch(Connection& conn, const RelayBatch& batch);

// Text forms of enums as stored in the rows; throw StoreFailure (Internal) on unknown text.
StreamType parse_stored_stream_type(const std::string& text);

}  // namespace ordinal::sqlite
