#pragma once
#include <cstdint>

#include "adapters/sqlite/sqlite_connection.h"
#include "ports/clock.h"
#include "ports/write_transaction.h"

namespace ordinal::sqlite {

// WriteTransaction over the writer's connection, inside the transaction (and savepoint) the
// batching writer opened. Every method throws StoreFailure when SQLite fails. One thread.
class SqliteWriteTransaction final : public WriteTransaction {
  public:
    SqliteWriteTransaction(Connection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}

    std::optional<IdempotencyRecord> find_idempotency(const std::string& key) override;
    void insert_idempotency(const IdempotencyRecord& record) override;
    std::optional<Product> load_product(const std::string& sku) override;
    void save_product(const Product& product) override;
    std::optional<Order> load_order(const std::string& order_id) override;
    void save_order(const Order& order) override;
    void append_event(const Event& event, const TraceContext& trace) override;

    std::int64_t events_appended() const { return events_appended_; }

  private:
    Connection& conn_;
    const Clock& clock_;
    std::int64_t events_appended_ = 0;
};

}  // namespace ordinal::sqlite
