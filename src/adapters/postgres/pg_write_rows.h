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
void upsert_order(Connection& conn, const Order& order);

// Locks, in one fixed order (orders by id, then products by sku), every existing row a batch of
// commands is going to change, so batches on different connections never deadlock on them.
void lock_rows(Connection& conn, const std::vector<std::string>& order_ids,
               const std::vector<std::string>& skus);

void insert_event(Connection& conn, const Event& event, std::int64_t created_ms);

std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit);
// Up to `limit` unpublished events in seq order (committed ones only: no cursor to skip past an
// event that commits late).
std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit);
void mark_events_published(Connection& conn, const std::vector<std::int64_t>& seqs);

StreamType parse_stored_stream_type(const std::string& text);

}  // namespace ordinal::pg
