#include "adapters/sqlite/sqlite_audit.h"

#include <functional>

#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_migrations.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using sqlite::Connection;
using sqlite::Query;

template <class Row>
class SqliteCursor final : public AuditCursor<Row> {
  public:
    SqliteCursor(Query query, std::function<Row(const Query&)> decode)
        : query_(std::move(query)), decode_(std::move(decode)) {}

    Expected<std::optional<Row>, StoreError> next() override {
        return guard_port("sqlite", [&]() -> std::optional<Row> {
            if (done_ || !query_.next()) {
                done_ = true;
                return std::nullopt;
            }
            return decode_(query_);
        });
    }

  private:
    Query query_;
    std::function<Row(const Query&)> decode_;
    bool done_ = false;
};

template <class Row>
Expected<std::unique_ptr<AuditCursor<Row>>, StoreError> cursor(
    Connection& conn, std::string sql, std::function<Row(const Query&)> decode) {
    return guard_port("sqlite", [&]() -> std::unique_ptr<AuditCursor<Row>> {
        return std::make_unique<SqliteCursor<Row>>(conn.query(sql), std::move(decode));
    });
}

// Orders of the write model ("orders", lines in "lines") or the read model ("orders_view",
// "items"): one layout, one decoder. The primary keys' indexes yield the order.
Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders_cursor(Connection& conn,
                                                                        const std::string& table,
                                                                        const std::string& lines) {
    return cursor<Order>(conn,
                         "SELECT order_id, user_id, status, currency, " + lines +
                             ", total_minor, version, created_at, updated_at FROM " + table +
                             " ORDER BY order_id",
                         sqlite::read_order_row);
}

Expected<Connection, StoreError> open_checked(const std::string& path,
                                              std::span<const sqlite::Migration> migrations) {
    return guard_port("sqlite", [&] {
        sqlite::ConnectionOptions options;
        options.path = path;
        options.create = false;
        options.read_only = true;
        Connection conn = Connection::open(options);
        sqlite::check_migrations_applied(conn, migrations);
        return conn;
    });
}

// BEGIN alone takes no snapshot in SQLite: the first read does.
Expected<void, StoreError> begin_snapshot_on(Connection& conn) {
    return guard_port("sqlite", [&] {
        conn.query("BEGIN").run();
        conn.query("SELECT count(*) FROM schema_migrations").run();
    });
}

class SqliteWriteAudit final : public WriteAudit {
  public:
    explicit SqliteWriteAudit(Connection conn) : conn_(std::move(conn)) {}
    ~SqliteWriteAudit() override { conn_.rollback_quietly(); }

    Expected<OutboxAudit, StoreError> outbox() override {
        return guard_port("sqlite", [&] {
            OutboxAudit out;
            Query q = conn_.query(
                "SELECT count(*), min(created_ms) FROM events "
                "WHERE seq > (SELECT published_seq FROM relay_state WHERE id = 1)");
            if (q.next()) {
                out.pending = q.int64(0);
                out.oldest_pending_created_ms = q.opt_int64(1);
            }
            return out;
        });
    }

    Expected<void, StoreError> begin_snapshot() override { return begin_snapshot_on(conn_); }

    Expected<std::unique_ptr<AuditCursor<AuditedEvent>>, StoreError> events(
        StreamType type) override {
        // The UNIQUE (stream_type, stream_id, version) index yields this order without sorting;
        // BINARY collation is bytewise.
        return cursor<AuditedEvent>(
            conn_,
            "SELECT e.seq, e.event_id, e.stream_type, e.stream_id, e.version, e.type, "
            "e.occurred_at, e.causation_id, e.schema_version, e.data, e.created_ms, i.event_id, "
            "i.created_ms FROM events e LEFT JOIN idempotency i ON i.key = e.causation_id "
            "WHERE e.stream_type = '" +
                std::string(stream_type_name(type)) + "' ORDER BY e.stream_id, e.version",
            [](const Query& q) {
                StoredEvent stored = sqlite::read_event_row(q);
                // verify judges the log against the models: an event it cannot read leaves
                // nothing to judge by, so the audit stops there (exit 2, cannot run).
                if (stored.undecoded) {
                    throw StoreFailure(
                        StoreError{StoreError::Kind::Internal, stored.undecoded->reason});
                }
                AuditedEvent out{stored.seq, q.int64(10), std::move(stored.event), std::nullopt};
                if (!q.is_null(11)) out.record = IdempotencyLink{q.text(11), q.int64(12)};
                return out;
            });
    }

    Expected<std::unique_ptr<AuditCursor<Product>>, StoreError> products() override {
        return cursor<Product>(conn_,
                               "SELECT sku, name, currency, price_minor, stock, reserved, "
                               "stock_seq, version FROM products ORDER BY sku",
                               sqlite::read_product_row);
    }

    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return orders_cursor(conn_, "orders", "lines");
    }

    Expected<std::int64_t, StoreError> idempotency_records() override {
        return guard_port("sqlite", [&] {
            Query q = conn_.query("SELECT count(*) FROM idempotency");
            return q.next() ? q.int64(0) : 0;
        });
    }

  private:
    Connection conn_;
};

class SqliteReadAudit final : public ReadAudit {
  public:
    explicit SqliteReadAudit(Connection conn) : conn_(std::move(conn)) {}
    ~SqliteReadAudit() override { conn_.rollback_quietly(); }

    Expected<void, StoreError> begin_snapshot() override { return begin_snapshot_on(conn_); }

    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return orders_cursor(conn_, "orders_view", "items");
    }

    Expected<std::unique_ptr<AuditCursor<ProductViewRow>>, StoreError> products() override {
        return cursor<ProductViewRow>(
            conn_,
            "SELECT sku, name, currency, price_minor, stock, stock_seq, version FROM "
            "products_view ORDER BY sku",
            [](const Query& q) {
                return ProductViewRow{ProductView{q.text(0), q.text(1), q.text(2), q.int64(3),
                                                  q.opt_int64(4), q.int64(6)},
                                      q.int64(5)};
            });
    }

  private:
    Connection conn_;
};

}  // namespace

Expected<std::unique_ptr<WriteAudit>, StoreError> open_sqlite_write_audit(const std::string& path) {
    auto conn = open_checked(path, sqlite::write_store_migrations());
    if (!conn) return unexpected(conn.error());
    return std::unique_ptr<WriteAudit>(std::make_unique<SqliteWriteAudit>(std::move(*conn)));
}

Expected<std::unique_ptr<ReadAudit>, StoreError> open_sqlite_read_audit(const std::string& path) {
    auto conn = open_checked(path, sqlite::read_store_migrations());
    if (!conn) return unexpected(conn.error());
    return std::unique_ptr<ReadAudit>(std::make_unique<SqliteReadAudit>(std::move(*conn)));
}

}  // namespace ordinal
