#include "adapters/sqlite/sqlite_write_transaction.h"

#include "adapters/sqlite/sqlite_write_rows.h"

namespace ordinal::sqlite {

std::optional<IdempotencyRecord> SqliteWriteTransaction::find_idempotency(const std::string& key) {
    return select_idempotency(conn_, key);
}

void SqliteWriteTransaction::insert_idempotency(const IdempotencyRecord& record) {
    sqlite::insert_idempotency(conn_, record);
}

std::optional<Product> SqliteWriteTransaction::load_product(const std::string& sku) {
    return select_product(conn_, sku);
}

void SqliteWriteTransaction::save_product(const Product& product) {
    upsert_product(conn_, product);
}

std::optional<Order> SqliteWriteTransaction::load_order(const std::string& order_id) {
    return select_order(conn_, order_id);
}

void SqliteWriteTransaction::save_order(const Order& order) {
    upsert_order(conn_, order);
}

void SqliteWriteTransaction::append_event(const Event& event, const TraceContext& trace) {
    insert_event(conn_, event, trace, clock_.unix_ms());
    ++events_appended_;
}

}  // namespace ordinal::sqlite
