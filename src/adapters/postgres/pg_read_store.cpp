// Twin of sqlite_read_store.cpp on purpose: the read store's queries in PostgreSQL's dialect and
// client library (docs/building.md#repeated-code).
// ReadStore over PostgreSQL. The projector's writes go through one connection under a mutex
// (pg_projection.h holds what they run); queries, admin requests and the process registry
// (pg_admin_rows.h) use a pool of connections beside it.
#include <memory>
#include <type_traits>

#include "adapters/postgres/pg_admin_rows.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_notifier.h"
#include "adapters/postgres/pg_pool.h"
#include "adapters/postgres/pg_projection.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_stores.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using pg::Connection;
using pg::Result;

const std::string kOrderColumns =
    "SELECT order_id, user_id, status, currency, items, total_minor, version, created_at, "
    "updated_at "
    "FROM orders_view ";

class PgReadStore final : public ReadStore {
  public:
    PgReadStore(std::string conninfo, std::unique_ptr<pg::Pool> readers, const Clock& clock,
                const ProjectionRules& rules)
        : rules_(rules),
          pruning_(clock),
          writer_(conninfo, 1),
          readers_(std::move(readers)),
          projection_notifier_(std::move(conninfo), "ordinal_projection") {}

    // Every listening process (an API's consistency gate) hears of projection progress once it
    // is committed.
    Expected<ProjectionResult, StoreError> apply(std::span<const Event> events,
                                                 const BusPosition& position) override {
        return announced(project([&](Connection& conn) {
            return pg::project_events(conn, rules_, events, position, pruning_);
        }));
    }

    Expected<ProjectionResult, StoreError> apply_delivery(
        const Delivery& delivery, std::span<const std::int64_t> offsets) override {
        const DeliveryPart part{&delivery, offsets};
        return announced(project([&](Connection& conn) {
            return pg::project_deliveries(conn, rules_, std::span<const DeliveryPart>(&part, 1),
                                          pruning_)
                .front();
        }));
    }

    Expected<std::vector<ProjectionResult>, StoreError> apply_deliveries(
        std::span<const DeliveryPart> parts) override {
        if (parts.empty()) return std::vector<ProjectionResult>{};
        return announced(project([&](Connection& conn) {
            return pg::project_deliveries(conn, rules_, parts, pruning_);
        }));
    }

    // On a pooled connection: the claim may wait for another process's projection transaction,
    // and this process's writer must not wait with it.
    Expected<std::int64_t, StoreError> claim_partition(const std::string& partition) override {
        return pooled([&](Connection& c) { return pg::claim_partition(c, partition); });
    }

    Expected<std::int64_t, StoreError> dead_letter_count() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            return pg::count_dead_letters(*conn);
        });
    }

    Expected<std::vector<DeadLetter>, StoreError> list_dead_letters(
        const DeadLetterQuery& query) override {
        return pooled([&](Connection& c) { return pg::select_dead_letters(c, query); });
    }

    Expected<bool, StoreError> discard_dead_letter(std::int64_t id,
                                                   const std::string& reason) override {
        return pooled([&](Connection& c) { return pg::discard_dead_letter(c, id, reason); });
    }

    Expected<DeadLetterRetry, StoreError> retry_dead_letters(
        std::optional<std::int64_t> id) override {
        auto out = write(
            [&](Connection& conn) { return pg::retry_dead_letters(conn, rules_, id, pruning_); });
        if (out && !out->advanced.empty()) projection_notifier_.signal();
        return out;
    }

    Expected<std::optional<Order>, StoreError> get_order(const std::string& order_id) override {
        return guard_port("postgres", [&]() -> std::optional<Order> {
            auto conn = readers_->acquire();
            Result r = conn->exec(kOrderColumns + "WHERE order_id = $1", order_id);
            if (r.rows() == 0) return std::nullopt;
            return pg::read_order(r, 0);
        });
    }

    Expected<OrderPage, StoreError> list_user_orders(
        const std::string& user_id, std::size_t limit,
        const std::optional<OrderCursor>& after) override {
        return guard_port("postgres", [&] {
            OrderPage page;
            if (limit == 0) return page;
            auto conn = readers_->acquire();
            const std::int64_t fetch = static_cast<std::int64_t>(limit) + 1;
            Result r =
                after
                    ? conn->exec(kOrderColumns +
                                     "WHERE user_id = $1 AND (created_at, order_id) < ($2, $3) "
                                     "ORDER BY created_at DESC, order_id DESC LIMIT $4",
                                 user_id, after->created_at, after->order_id, fetch)
                    : conn->exec(
                          kOrderColumns +
                              "WHERE user_id = $1 ORDER BY created_at DESC, order_id DESC LIMIT $2",
                          user_id, fetch);
            for (int i = 0; i < r.rows(); ++i) page.orders.push_back(pg::read_order(r, i));
            if (page.orders.size() > limit) {
                page.orders.resize(limit);
                page.next = OrderCursor{page.orders.back().created_at, page.orders.back().id};
            }
            return page;
        });
    }

    Expected<std::optional<ProductView>, StoreError> get_product(const std::string& sku) override {
        return guard_port("postgres", [&]() -> std::optional<ProductView> {
            auto conn = readers_->acquire();
            Result r = conn->exec(
                "SELECT name, currency, price_minor, stock, version FROM products_view WHERE sku = "
                "$1 AND version > 0",
                sku);
            if (r.rows() == 0) return std::nullopt;
            ProductView p;
            p.sku = sku;
            p.name = r.text(0, 0);
            p.currency = r.text(0, 1);
            p.price_minor = r.int64(0, 2);
            p.stock = r.opt_int64(0, 3);
            p.version = r.int64(0, 4);
            return p;
        });
    }

    Expected<std::int64_t, StoreError> stream_version(const StreamKey& stream) override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            return pg::select_stream_version(*conn, stream);
        });
    }

    Expected<std::vector<StreamApplyTime>, StoreError> stream_apply_times(
        const StreamKey& stream, std::int64_t since_ms) override {
        return pooled(
            [&](Connection& c) { return pg::select_stream_apply_times(c, stream, since_ms); });
    }

    Expected<std::vector<std::int64_t>, StoreError> stream_versions(
        std::span<const StreamKey> streams) override {
        return guard_port("postgres", [&] {
            std::vector<std::string> types, ids;
            for (const StreamKey& k : streams) {
                types.emplace_back(stream_type_name(k.type));
                ids.push_back(k.id);
            }
            auto conn = readers_->acquire();
            // One round trip for every stream the gate waits on, not one each.
            Result r = conn->exec(
                "SELECT COALESCE(CASE WHEN k.t = 'order' "
                "THEN (SELECT version FROM orders_view WHERE order_id = k.id) "
                "ELSE (SELECT version FROM products_view WHERE sku = k.id) END, 0) "
                "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(t, id, i) ORDER BY k.i",
                types, ids);
            std::vector<std::int64_t> out;
            out.reserve(static_cast<std::size_t>(r.rows()));
            for (int i = 0; i < r.rows(); ++i) out.push_back(r.int64(i, 0));
            return out;
        });
    }

    Expected<std::int64_t, StoreError> bus_position(const std::string& partition) override {
        return guard_port("postgres", [&]() -> std::int64_t {
            auto conn = readers_->acquire();
            Result r =
                conn->exec("SELECT \"offset\" FROM bus_positions WHERE partition = $1", partition);
            return r.rows() ? r.int64(0, 0) : 0;
        });
    }

    Expected<std::vector<BusPosition>, StoreError> bus_positions() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            Result r =
                conn->exec("SELECT partition, \"offset\" FROM bus_positions ORDER BY partition");
            std::vector<BusPosition> out;
            for (int i = 0; i < r.rows(); ++i)
                out.push_back(BusPosition{r.text(i, 0), r.int64(i, 1)});
            return out;
        });
    }

    Expected<ProjectionStats, StoreError> stats() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            pg::Transaction snapshot(*conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            ProjectionStats stats;
            {
                Result r = conn->exec(
                    "SELECT (SELECT COUNT(*) FROM orders_view) + (SELECT COUNT(*) FROM "
                    "products_view WHERE version > "
                    "0)");
                stats.streams = r.int64(0, 0);
            }
            {
                Result r = conn->exec(
                    "SELECT partition, \"offset\" FROM bus_positions ORDER BY partition");
                for (int i = 0; i < r.rows(); ++i)
                    stats.positions.push_back(BusPosition{r.text(i, 0), r.int64(i, 1)});
            }
            stats.dead_letters = pg::count_dead_letters(*conn);
            snapshot.commit();
            return stats;
        });
    }

    Expected<void, StoreError> reset() override {
        return write([&](Connection& conn) {
            conn.exec("DELETE FROM orders_view");
            conn.exec("DELETE FROM products_view");
            conn.exec("DELETE FROM bus_positions");
            conn.exec("DELETE FROM dead_letters");
            conn.exec("DELETE FROM projection_batches");
            conn.exec(
                "INSERT INTO rebuild_state (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET "
                "started_at = excluded.started_at");
        });
    }

    Expected<void, StoreError> finish_rebuild() override {
        return write([&](Connection& conn) { conn.exec("DELETE FROM rebuild_state"); });
    }

    Expected<std::optional<std::string>, StoreError> rebuild_started() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            Result r = conn->exec("SELECT started_at FROM rebuild_state WHERE id = 1");
            return r.rows() > 0 ? std::optional<std::string>(r.text(0, 0)) : std::nullopt;
        });
    }

    Expected<void, StoreError> check_ready() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            pg::check_migrations_applied(*conn, pg::read_store_migrations());
        });
    }

    Expected<std::pair<AdminRequest, bool>, StoreError> submit_admin_request(
        const std::string& kind, std::optional<std::int64_t> target, const std::string& reason,
        const std::string& requested_by) override {
        return pooled([&](Connection& c) {
            return pg::submit_admin_request(c, kind, target, reason, requested_by);
        });
    }
    Expected<std::optional<AdminRequest>, StoreError> claim_admin_request(
        const std::string& owner, std::int64_t stale_after_ms) override {
        return pooled(
            [&](Connection& c) { return pg::claim_admin_request(c, owner, stale_after_ms); });
    }
    Expected<bool, StoreError> report_admin_progress(std::int64_t id, const std::string& owner,
                                                     const std::string& progress) override {
        return pooled(
            [&](Connection& c) { return pg::report_admin_progress(c, id, owner, progress); });
    }
    Expected<bool, StoreError> finish_admin_request(const AdminRequest& outcome) override {
        return pooled([&](Connection& c) { return pg::finish_admin_request(c, outcome); });
    }
    Expected<std::optional<AdminRequest>, StoreError> get_admin_request(std::int64_t id) override {
        return pooled([&](Connection& c) { return pg::select_admin_request(c, id); });
    }
    Expected<void, StoreError> record_audit(const AuditEntry& entry) override {
        return pooled([&](Connection& c) { pg::insert_audit(c, entry); });
    }
    Expected<std::vector<AuditEntry>, StoreError> list_audit(std::size_t limit) override {
        return pooled([&](Connection& c) { return pg::select_audit(c, limit); });
    }
    Expected<void, StoreError> heartbeat(const ProcessRecord& self) override {
        return pooled([&](Connection& c) { pg::upsert_process(c, self); });
    }
    Expected<std::vector<ProcessRecord>, StoreError> list_processes() override {
        return pooled([&](Connection& c) { return pg::select_processes(c); });
    }

  private:
    // Runs `body` on a pooled connection (not the projector's writer).
    template <class F>
    Expected<std::invoke_result_t<F, Connection&>, StoreError> pooled(F&& body) {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            return body(*conn);
        });
    }

    template <class T>
    T announced(T result) {
        if (result) projection_notifier_.signal();
        return result;
    }

    // Runs `body` on the writer connection; it begins and commits its transaction itself, in
    // the pipelines of its first and last statements (project_delivery). Rolled back on any
    // throw once begun.
    template <class F>
    Expected<std::invoke_result_t<F, Connection&>, StoreError> project(F&& body) {
        return guard_port("postgres", [&] {
            auto conn = writer_.acquire();
            pg::Transaction tx(*conn, nullptr);
            return body(*conn);
        });
    }

    // Runs `body` in one transaction on the writer connection, rolled back on any throw.
    template <class F>
    Expected<std::invoke_result_t<F, Connection&>, StoreError> write(F&& body) {
        return guard_port("postgres", [&] {
            auto conn = writer_.acquire();
            pg::Transaction tx(*conn);
            if constexpr (std::is_void_v<std::invoke_result_t<F, Connection&>>) {
                body(*conn);
                tx.commit();
            } else {
                auto result = body(*conn);
                tx.commit();
                return result;
            }
        });
    }

    const ProjectionRules& rules_;
    BatchTimesPruning pruning_;
    pg::Pool writer_;  // one connection: projector writes are serialized
    std::unique_ptr<pg::Pool> readers_;
    pg::Notifier projection_notifier_;
};

}  // namespace

Expected<std::unique_ptr<ReadStore>, StoreError> make_postgres_read_store(
    const PostgresReadStoreOptions& options, const Clock& clock, const ProjectionRules& rules) {
    if (auto ok = migrate_postgres_read_store(options.conninfo); !ok) return unexpected(ok.error());
    return guard_port("postgres", [&]() -> std::unique_ptr<ReadStore> {
        auto readers = std::make_unique<pg::Pool>(options.conninfo, options.connections);
        return std::make_unique<PgReadStore>(options.conninfo, std::move(readers), clock, rules);
    });
}

}  // namespace ordinal
