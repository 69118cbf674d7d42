#include <functional>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_audit.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using pg::Connection;
using pg::Result;

constexpr int kFetchRows = 2000;

// A server-side cursor of the audit's transaction, fetched kFetchRows at a time.
template <class Row>
class PgCursor final : public AuditCursor<Row> {
  public:
    PgCursor(Connection& conn, const std::string& name,
             std::function<Row(const Result&, int)> decode)
        : conn_(conn),
          fetch_("FETCH FORWARD " + std::to_string(kFetchRows) + " FROM " + name),
          decode_(std::move(decode)) {}

    Expected<std::optional<Row>, StoreError> next() override {
        return guard_port("postgres", [&]() -> std::optional<Row> {
            if (!batch_ || at_ == batch_->rows()) {
                if (exhausted_) return std::nullopt;
                batch_.emplace(conn_.exec(fetch_));
                at_ = 0;
                exhausted_ = batch_->rows() < kFetchRows;
                if (batch_->rows() == 0) return std::nullopt;
            }
            return decode_(*batch_, at_++);
        });
    }

  private:
    Connection& conn_;
    std::string fetch_;
    std::function<Row(const Result&, int)> decode_;
    std::optional<Result> batch_;
    int at_ = 0;
    bool exhausted_ = false;
};

// One connection, one snapshot, any number of cursors in it.
class Snapshot {
  public:
    explicit Snapshot(Connection conn) : conn_(std::move(conn)) {}

    Expected<void, StoreError> begin() {
        return guard_port("postgres", [&] {
            // The snapshot waits while the other store's rows are walked: no idle bound here.
            conn_.exec_script(
                "SET idle_in_transaction_session_timeout = 0; "
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            // Every cursor is read to its end: plan for the whole result, not its first rows.
            conn_.exec_script("SET LOCAL cursor_tuple_fraction = 1");
            conn_.exec("SELECT 1");  // the snapshot is taken by the first statement
        });
    }

    // `sql` is constant text of this file (no client data): cursors take no parameters.
    template <class Row>
    Expected<std::unique_ptr<AuditCursor<Row>>, StoreError> cursor(
        const std::string& sql, std::function<Row(const Result&, int)> decode) {
        return guard_port("postgres", [&]() -> std::unique_ptr<AuditCursor<Row>> {
            const std::string name = "ordinal_audit_" + std::to_string(++cursors_);
            conn_.exec_script("DECLARE " + name + " NO SCROLL CURSOR FOR " + sql);
            return std::make_unique<PgCursor<Row>>(conn_, name, std::move(decode));
        });
    }

    // Orders of the write model ("orders", lines in "lines") or the read model ("orders_view",
    // "items"): one layout, one decoder.
    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders(const std::string& table,
                                                                     const std::string& lines) {
        return cursor<Order>("SELECT order_id, user_id, status, currency, " + lines +
                                 ", total_minor, version, created_at, updated_at FROM " + table +
                                 " ORDER BY order_id COLLATE \"C\"",
                             pg::read_order);
    }

    Connection& conn() { return conn_; }

  private:
    Connection conn_;
    int cursors_ = 0;
};

Expected<Connection, StoreError> open_checked(const std::string& conninfo,
                                              const pg::MigrationSet& migrations) {
    return guard_port("postgres", [&] {
        Connection conn = Connection::open(conninfo);
        pg::check_migrations_applied(conn, migrations);
        return conn;
    });
}

class PgWriteAudit final : public WriteAudit {
  public:
    explicit PgWriteAudit(Connection conn) : snapshot_(std::move(conn)) {}

    Expected<OutboxAudit, StoreError> outbox() override {
        return guard_port("postgres", [&] {
            // The outbox table holds only the unpublished events: as cheap as the backlog is small.
            Result r =
                snapshot_.conn().exec("SELECT count(*), min(created_ms) FROM outbox_pending");
            return OutboxAudit{r.int64(0, 0), r.opt_int64(0, 1)};
        });
    }

    Expected<void, StoreError> begin_snapshot() override { return snapshot_.begin(); }

    Expected<std::unique_ptr<AuditCursor<AuditedEvent>>, StoreError> events(
        StreamType type) override {
        return snapshot_.cursor<AuditedEvent>(
            "SELECT e.seq, e.event_id::text, e.stream_type, e.stream_id, e.version, e.type, "
            "e.occurred_at, e.causation_id, e.schema_version, e.data, e.created_ms, "
            "i.event_id::text, i.created_ms FROM events e "
            "LEFT JOIN idempotency i ON i.key = e.causation_id WHERE e.stream_type = '" +
                std::string(stream_type_name(type)) +
                "' ORDER BY e.stream_id COLLATE \"C\", e.version",
            [](const Result& r, int i) {
                StoredEvent stored = pg::read_event(r, i);
                // verify judges the log against the models: an event it cannot read leaves
                // nothing to judge by, so the audit stops there (exit 2, cannot run).
                if (stored.undecoded) {
                    throw StoreFailure(
                        StoreError{StoreError::Kind::Internal, stored.undecoded->reason});
                }
                AuditedEvent out{stored.seq, r.int64(i, 10), std::move(stored.event), std::nullopt};
                if (!r.is_null(i, 11)) out.record = IdempotencyLink{r.text(i, 11), r.int64(i, 12)};
                return out;
            });
    }

    Expected<std::unique_ptr<AuditCursor<Product>>, StoreError> products() override {
        return snapshot_.cursor<Product>(
            "SELECT sku, name, currency, price_minor, stock, reserved, stock_seq, version "
            "FROM products ORDER BY sku COLLATE \"C\"",
            pg::read_product);
    }

    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return snapshot_.orders("orders", "lines");
    }

    Expected<std::int64_t, StoreError> idempotency_records() override {
        return guard_port("postgres", [&] {
            return snapshot_.conn().exec("SELECT count(*) FROM idempotency").int64(0, 0);
        });
    }

  private:
    Snapshot snapshot_;
};

class PgReadAudit final : public ReadAudit {
  public:
    explicit PgReadAudit(Connection conn) : snapshot_(std::move(conn)) {}

    Expected<void, StoreError> begin_snapshot() override { return snapshot_.begin(); }

    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return snapshot_.orders("orders_view", "items");
    }

    Expected<std::unique_ptr<AuditCursor<ProductViewRow>>, StoreError> products() override {
        return snapshot_.cursor<ProductViewRow>(
            "SELECT sku, name, currency, price_minor, stock, stock_seq, version FROM "
            "products_view ORDER BY sku COLLATE \"C\"",
            [](const Result& r, int i) {
                return ProductViewRow{ProductView{r.text(i, 0), r.text(i, 1), r.text(i, 2),
                                                  r.int64(i, 3), r.opt_int64(i, 4), r.int64(i, 6)},
                                      r.int64(i, 5)};
            });
    }

  private:
    Snapshot snapshot_;
};

}  // namespace

Expected<std::unique_ptr<WriteAudit>, StoreError> open_postgres_write_audit(
    const std::string& conninfo) {
    auto conn = open_checked(conninfo, pg::write_store_migrations());
    if (!conn) return unexpected(conn.error());
    return std::unique_ptr<WriteAudit>(std::make_unique<PgWriteAudit>(std::move(*conn)));
}

Expected<std::unique_ptr<ReadAudit>, StoreError> open_postgres_read_audit(
    const std::string& conninfo) {
    auto conn = open_checked(conninfo, pg::read_store_migrations());
    if (!conn) return unexpected(conn.error());
    return std::unique_ptr<ReadAudit>(std::make_unique<PgReadAudit>(std::move(*conn)));
}

}  // namespace ordinal
