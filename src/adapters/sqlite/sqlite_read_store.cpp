// Twin of pg_read_store.cpp on purpose: the read store's queries in SQLite's dialect and client
// library (docs/building.md#repeated-code).
// ReadStore over a second SQLite file. The projector's writes go through one connection under a
// mutex; queries use a pool of read-only connections and run beside them (WAL).
#include <memory>
#include <mutex>
#include <type_traits>

#include "adapters/batch_times_pruning.h"
#include "adapters/sqlite/sqlite_admin_rows.h"
#include "adapters/sqlite/sqlite_connection_pool.h"
#include "adapters/sqlite/sqlite_migrations.h"
#include "adapters/sqlite/sqlite_projection.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "codec/event_json.h"
#include "domain/thread_annotations.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using sqlite::Connection;
using sqlite::Query;
using sqlite::read_order_row;
using sqlite::SqliteConnectionPool;
using sqlite::Transaction;

constexpr const char* kOrderColumns =
    "SELECT order_id, user_id, status, currency, items, total_minor, version, created_at, "
    "updated_at "
    "FROM orders_view ";

class SqliteReadStore final : public ReadStore {
  public:
    SqliteReadStore(Connection writer, std::unique_ptr<SqliteConnectionPool> readers,
                    const Clock& clock, const ProjectionRules& rules)
        : rules_(rules),
          pruning_(clock),
          writer_(std::move(writer)),
          readers_(std::move(readers)) {}

    Expected<ProjectionResult, StoreError> apply(std::span<const Event> events,
                                                 const BusPosition& position) override {
        return write([&] {
            ProjectionResult result = sqlite::project_events(writer_, rules_, events, position);
            record_batch(result.advanced);
            return result;
        });
    }

    Expected<ProjectionResult, StoreError> apply_delivery(
        const Delivery& delivery, std::span<const std::int64_t> offsets) override {
        return write([&] {
            ProjectionResult result = sqlite::project_delivery(writer_, rules_, delivery, offsets);
            record_batch(result.advanced);
            return result;
        });
    }

    // In a write transaction: it waits for a projection transaction under way (the write lock).
    Expected<std::int64_t, StoreError> claim_partition(const std::string& partition) override {
        return write([&] { return sqlite::claim_partition(writer_, partition); });
    }

    Expected<std::vector<ProjectionResult>, StoreError> apply_deliveries(
        std::span<const DeliveryPart> parts) override {
        return write([&] {
            std::vector<ProjectionResult> results;
            results.reserve(parts.size());
            std::vector<std::pair<StreamKey, std::int64_t>> advanced;
            for (const DeliveryPart& part : parts) {
                results.push_back(
                    sqlite::project_delivery(writer_, rules_, *part.delivery, part.offsets));
                advanced.insert(advanced.end(), results.back().advanced.begin(),
                                results.back().advanced.end());
            }
            record_batch(advanced);  // one row for the transaction, whatever its partitions
            return results;
        });
    }

    Expected<std::int64_t, StoreError> dead_letter_count() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::count_dead_letters(*conn);
        });
    }

    Expected<std::vector<DeadLetter>, StoreError> list_dead_letters(
        const DeadLetterQuery& query) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_dead_letters(*conn, query);
        });
    }

    Expected<bool, StoreError> discard_dead_letter(std::int64_t id,
                                                   const std::string& reason) override {
        return write([&] { return sqlite::discard_dead_letter(writer_, id, reason); });
    }

    Expected<DeadLetterRetry, StoreError> retry_dead_letters(
        std::optional<std::int64_t> id) override {
        return write([&] {
            DeadLetterRetry retry = sqlite::retry_dead_letters(writer_, rules_, id);
            record_batch(retry.advanced);
            return retry;
        });
    }

    Expected<std::optional<Order>, StoreError> get_order(const std::string& order_id) override {
        return guard_port("sqlite", [&]() -> std::optional<Order> {
            auto conn = readers_->acquire();
            Query q = conn->query(std::string(kOrderColumns) + "WHERE order_id = ?", order_id);
            if (!q.next()) return std::nullopt;
            return read_order_row(q);
        });
    }

    Expected<OrderPage, StoreError> list_user_orders(
        const std::string& user_id, std::size_t limit,
        const std::optional<OrderCursor>& after) override {
        return guard_port("sqlite", [&] {
            OrderPage page;
            if (limit == 0) return page;
            auto conn = readers_->acquire();
            // One row more than asked tells whether another page exists. The row-value comparison
            // lets the (user_id, created_at DESC, order_id DESC) index seek straight to the cursor.
            const std::int64_t fetch = static_cast<std::int64_t>(limit) + 1;
            Query q =
                after
                    ? conn->query(std::string(kOrderColumns) +
                                      "WHERE user_id = ?1 AND (created_at, order_id) < (?2, ?3) "
                                      "ORDER BY created_at DESC, order_id DESC LIMIT ?4",
                                  user_id, after->created_at, after->order_id, fetch)
                    : conn->query(
                          std::string(kOrderColumns) +
                              "WHERE user_id = ?1 ORDER BY created_at DESC, order_id DESC LIMIT ?2",
                          user_id, fetch);
            while (q.next()) page.orders.push_back(read_order_row(q));
            if (page.orders.size() > limit) {
                page.orders.resize(limit);
                page.next = OrderCursor{page.orders.back().created_at, page.orders.back().id};
            }
            return page;
        });
    }

    Expected<std::optional<ProductView>, StoreError> get_product(const std::string& sku) override {
        return guard_port("sqlite", [&]() -> std::optional<ProductView> {
            auto conn = readers_->acquire();
            // version 0 is a placeholder holding stock only: the product is not known yet.
            Query q = conn->query(
                "SELECT name, currency, price_minor, stock, version FROM products_view WHERE sku = "
                "? AND version > 0",
                sku);
            if (!q.next()) return std::nullopt;
            ProductView p;
            p.sku = sku;
            p.name = q.text(0);
            p.currency = q.text(1);
            p.price_minor = q.int64(2);
            p.stock = q.opt_int64(3);
            p.version = q.int64(4);
            return p;
        });
    }

    Expected<std::int64_t, StoreError> stream_version(const StreamKey& stream) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_stream_version(*conn, stream);
        });
    }

    Expected<std::vector<StreamApplyTime>, StoreError> stream_apply_times(
        const StreamKey& stream, std::int64_t since_ms) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_stream_apply_times(*conn, stream, since_ms);
        });
    }

    Expected<std::int64_t, StoreError> bus_position(const std::string& partition) override {
        return guard_port("sqlite", [&]() -> std::int64_t {
            auto conn = readers_->acquire();
            Query q =
                conn->query("SELECT \"offset\" FROM bus_positions WHERE partition = ?", partition);
            return q.next() ? q.int64(0) : 0;
        });
    }

    Expected<std::vector<BusPosition>, StoreError> bus_positions() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            Query q =
                conn->query("SELECT partition, \"offset\" FROM bus_positions ORDER BY partition");
            std::vector<BusPosition> out;
            while (q.next()) out.push_back(BusPosition{q.text(0), q.int64(1)});
            return out;
        });
    }

    Expected<ProjectionStats, StoreError> stats() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            Transaction snapshot(*conn, Transaction::Mode::Deferred);
            ProjectionStats stats;
            {
                Query q = conn->query(
                    "SELECT (SELECT COUNT(*) FROM orders_view) + (SELECT COUNT(*) FROM "
                    "products_view WHERE version > 0)");
                if (q.next()) stats.streams = q.int64(0);
            }
            {
                Query q = conn->query(
                    "SELECT partition, \"offset\" FROM bus_positions ORDER BY partition");
                while (q.next()) stats.positions.push_back(BusPosition{q.text(0), q.int64(1)});
            }
            stats.dead_letters = sqlite::count_dead_letters(*conn);
            snapshot.commit();
            return stats;
        });
    }

    Expected<void, StoreError> reset() override {
        return write([&] {
            writer_.exec("DELETE FROM orders_view");
            writer_.exec("DELETE FROM products_view");
            writer_.exec("DELETE FROM bus_positions");
            writer_.exec("DELETE FROM dead_letters");
            writer_.exec("DELETE FROM projection_batches");
            writer_.exec(
                "INSERT OR REPLACE INTO rebuild_state (id, started_at) VALUES "
                "(1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
        });
    }

    Expected<void, StoreError> finish_rebuild() override {
        return write([&] { writer_.exec("DELETE FROM rebuild_state"); });
    }

    Expected<std::optional<std::string>, StoreError> rebuild_started() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            Query q = conn->query("SELECT started_at FROM rebuild_state WHERE id = 1");
            return q.next() ? std::optional<std::string>(q.text(0)) : std::nullopt;
        });
    }

    Expected<void, StoreError> check_ready() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            sqlite::check_migrations_applied(*conn, sqlite::read_store_migrations());
        });
    }

    Expected<std::pair<AdminRequest, bool>, StoreError> submit_admin_request(
        const std::string& kind, std::optional<std::int64_t> target, const std::string& reason,
        const std::string& requested_by) override {
        return write([&] {
            return sqlite::submit_admin_request(writer_, kind, target, reason, requested_by);
        });
    }
    Expected<std::optional<AdminRequest>, StoreError> claim_admin_request(
        const std::string& owner, std::int64_t stale_after_ms) override {
        return write([&] { return sqlite::claim_admin_request(writer_, owner, stale_after_ms); });
    }
    Expected<bool, StoreError> report_admin_progress(std::int64_t id, const std::string& owner,
                                                     const std::string& progress) override {
        return write([&] { return sqlite::report_admin_progress(writer_, id, owner, progress); });
    }
    Expected<bool, StoreError> finish_admin_request(const AdminRequest& outcome) override {
        return write([&] { return sqlite::finish_admin_request(writer_, outcome); });
    }
    Expected<std::optional<AdminRequest>, StoreError> get_admin_request(std::int64_t id) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_admin_request(*conn, id);
        });
    }
    Expected<void, StoreError> record_audit(const AuditEntry& entry) override {
        return write([&] { sqlite::insert_audit(writer_, entry); });
    }
    Expected<std::vector<AuditEntry>, StoreError> list_audit(std::size_t limit) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_audit(*conn, limit);
        });
    }
    Expected<void, StoreError> heartbeat(const ProcessRecord& self) override {
        return write([&] { sqlite::upsert_process(writer_, self); });
    }
    Expected<std::vector<ProcessRecord>, StoreError> list_processes() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_processes(*conn);
        });
    }

  private:
    // Runs `body` in one IMMEDIATE transaction on the writer connection, rolled back on any throw.
    template <class F>
    Expected<std::invoke_result_t<F>, StoreError> write(F&& body) {
        std::lock_guard lock(write_mu_);
        return guard_port("sqlite", [&] {
            Transaction tx(writer_, Transaction::Mode::Immediate);
            if constexpr (std::is_void_v<std::invoke_result_t<F>>) {
                body();
                tx.commit();
            } else {
                auto result = body();
                tx.commit();
                return result;
            }
        });
    }

    // The batch's time row (ports/batch_times.h), in the transaction that applied it.
    // Called inside write(), which holds write_mu_.
    void record_batch(std::span<const std::pair<StreamKey, std::int64_t>> advanced) {
        if (!advanced.empty()) sqlite::record_projection_batch(writer_, advanced, pruning_.next());
    }

    const ProjectionRules& rules_;
    BatchTimesPruning pruning_;
    std::mutex write_mu_;
    Connection writer_ GUARDED_BY(write_mu_);
    std::unique_ptr<SqliteConnectionPool> readers_;
};

}  // namespace

Expected<std::unique_ptr<ReadStore>, StoreError> make_sqlite_read_store(
    const SqliteReadStoreOptions& options, const Clock& clock, const ProjectionRules& rules) {
    return guard_port("sqlite", [&]() -> std::unique_ptr<ReadStore> {
        if (options.path.empty())
            throw StoreFailure(sqlite::internal_error("sqlite: read store path is empty"));
        sqlite::ConnectionOptions conn_options;
        conn_options.path = options.path;
        Connection writer = Connection::open(conn_options);
        sqlite::apply_migrations(writer, sqlite::read_store_migrations());
        auto readers = std::make_unique<SqliteConnectionPool>(options.path, options.readers);
        return std::make_unique<SqliteReadStore>(std::move(writer), std::move(readers), clock,
                                                 rules);
    });
}

}  // namespace ordinal
