// WriteStore over PostgreSQL: commands go through the batching writers; reads (relay, rebuilds,
// idempotency lookups, stats) use a pool of connections beside them.
#include <algorithm>
#include <memory>

#include "adapters/postgres/pg_batching_writer.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_pool.h"
#include "adapters/postgres/pg_port_guard.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_stores.h"

namespace ordinal {
namespace {

using pg::Connection;
using pg::Result;

class PgWriteStore final : public WriteStore {
  public:
    PgWriteStore(std::unique_ptr<pg::Pool> readers, std::unique_ptr<pg::PgBatchingWriter> writer,
                 const Clock& clock)
        : readers_(std::move(readers)), writer_(std::move(writer)), clock_(clock) {}

    ~PgWriteStore() override { writer_->stop(); }

    void submit(CommandRequest request, Done done) override {
        writer_->submit(std::move(request), std::move(done));
    }

    Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string& key) override {
        return pg::guard_port([&] {
            auto conn = readers_->acquire();
            return pg::select_idempotency(*conn, key);
        });
    }

    Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t limit) override {
        return pg::guard_port([&] {
            auto conn = readers_->acquire();
            return pg::select_pending_events(*conn, limit);
        });
    }

    Expected<void, StoreError> mark_published(std::span<const StoredEvent> events) override {
        if (events.empty()) return {};
        return pg::guard_port([&] {
            std::vector<std::int64_t> seqs;
            seqs.reserve(events.size());
            for (const StoredEvent& e : events) seqs.push_back(e.seq);
            auto conn = readers_->acquire();
            pg::mark_events_published(*conn, seqs);
        });
    }

    Expected<std::vector<StoredEvent>, StoreError> read_log(std::int64_t after_seq,
                                                            std::size_t limit) override {
        return pg::guard_port([&] {
            auto conn = readers_->acquire();
            return pg::select_events_after(*conn, after_seq, limit);
        });
    }

    Expected<OutboxStats, StoreError> outbox_stats() override {
        return pg::guard_port([&] {
            auto conn = readers_->acquire();
            // One statement: one snapshot.
            Result r = conn->exec(
                "SELECT (SELECT published_seq FROM relay_state WHERE id = 1), "
                "(SELECT COUNT(*) FROM events WHERE NOT published), "
                "(SELECT MIN(created_ms) FROM events WHERE NOT published), "
                "(SELECT COALESCE(MAX(seq), 0) FROM events)");
            OutboxStats stats;
            stats.published_seq = r.int64(0, 0);
            stats.pending = r.int64(0, 1);
            if (const auto oldest = r.opt_int64(0, 2)) {
                stats.oldest_pending_age_ms = std::max<std::int64_t>(0, clock_.unix_ms() - *oldest);
            }
            stats.last_seq = r.int64(0, 3);
            return stats;
        });
    }

    Expected<void, StoreError> check_ready() override {
        return pg::guard_port([&] {
            auto conn = readers_->acquire();
            pg::check_migrations_applied(*conn, pg::write_store_migrations());
        });
    }

    void set_commit_listener(std::function<void()> listener) override {
        writer_->set_commit_listener(std::move(listener));
    }

  private:
    std::unique_ptr<pg::Pool> readers_;
    std::unique_ptr<pg::PgBatchingWriter> writer_;
    const Clock& clock_;
};

Expected<void, StoreError> migrate(const std::string& conninfo, const pg::MigrationSet& set) {
    return pg::guard_port([&] {
        if (conninfo.empty()) pg::throw_internal("connection string is empty");
        Connection conn = Connection::open(conninfo);
        pg::apply_migrations(conn, set);
    });
}

}  // namespace

Expected<std::unique_ptr<WriteStore>, StoreError> make_postgres_write_store(
    const PostgresWriteStoreOptions& options, const Clock& clock, IdGenerator& ids) {
    if (auto ok = migrate(options.conninfo, pg::write_store_migrations()); !ok)
        return unexpected(ok.error());
    return pg::guard_port([&]() -> std::unique_ptr<WriteStore> {
        auto readers = std::make_unique<pg::Pool>(options.conninfo, options.connections);
        auto writer = std::make_unique<pg::PgBatchingWriter>(
            pg::BatchingWriterOptions{options.conninfo, options.connections, options.max_queue,
                                      options.max_batch},
            clock, ids);
        return std::make_unique<PgWriteStore>(std::move(readers), std::move(writer), clock);
    });
}

Expected<void, StoreError> migrate_postgres_write_store(const std::string& conninfo) {
    return migrate(conninfo, pg::write_store_migrations());
}

Expected<void, StoreError> migrate_postgres_read_store(const std::string& conninfo) {
    return migrate(conninfo, pg::read_store_migrations());
}

}  // namespace ordinal
