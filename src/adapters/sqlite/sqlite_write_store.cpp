// Twin of pg_write_store.cpp on purpose: the write store's port methods in SQLite's dialect and
// client library (docs/building.md#repeated-code).
// WriteStore over one SQLite file: commands go through the single batching writer; reads (relay,
// rebuilds, idempotency lookups) use a small pool of read-only connections beside it.
#include <algorithm>
#include <memory>

#include "adapters/batch_times_pruning.h"
#include "adapters/sqlite/sqlite_batching_writer.h"
#include "adapters/sqlite/sqlite_connection_pool.h"
#include "adapters/sqlite/sqlite_idempotency_retention.h"
#include "adapters/sqlite/sqlite_migrations.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using sqlite::Connection;
using sqlite::Query;
using sqlite::SqliteBatchingWriter;
using sqlite::SqliteConnectionPool;
using sqlite::Transaction;

class SqliteWriteStore final : public WriteStore {
  public:
    SqliteWriteStore(std::unique_ptr<SqliteConnectionPool> readers,
                     std::unique_ptr<SqliteBatchingWriter> writer, const Clock& clock,
                     const SqliteWriteStoreOptions& options)
        : readers_(std::move(readers)), writer_(std::move(writer)), clock_(clock) {
        if (options.idempotency_retention.count() > 0) {
            retention_ = std::make_unique<sqlite::IdempotencyRetention>(
                *writer_,
                sqlite::RetentionOptions{options.idempotency_retention, options.retention_interval,
                                         options.retention_batch_rows},
                clock);
        }
    }

    ~SqliteWriteStore() override {
        // The writer first: what is queued fails at once (a retention batch waiting behind
        // commands included), and then the retention thread has nothing left to wait for.
        writer_->stop();
        retention_.reset();
    }

    void submit(CommandRequest request, Done done) override {
        writer_->submit(std::move(request), std::move(done));
    }

    Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string& key) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_idempotency(*conn, key);
        });
    }

    Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t limit) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_pending_events(*conn, limit);
        });
    }

    Expected<void, StoreError> mark_published(std::span<const StoredEvent> events) override {
        if (events.empty()) return {};
        const auto [oldest, newest] = std::minmax_element(
            events.begin(), events.end(),
            [](const StoredEvent& a, const StoredEvent& b) { return a.seq < b.seq; });
        const std::int64_t now = clock_.unix_ms();
        // Through the writer thread: it owns the write lock, so this never waits on busy_timeout.
        // The batch's time row goes in the same upkeep step: no commit of its own.
        return writer_->mark_published(
            sqlite::RelayBatch{oldest->seq, newest->seq, now, pruning_.due(now)});
    }

    Expected<std::vector<StoredEvent>, StoreError> read_log(std::int64_t after_seq,
                                                            std::size_t limit) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            return sqlite::select_events_after(*conn, after_seq, limit);
        });
    }

    Expected<OutboxStats, StoreError> outbox_stats() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            Transaction snapshot(*conn, Transaction::Mode::Deferred);  // one consistent view
            OutboxStats stats;
            stats.published_seq = sqlite::select_published_seq(*conn);
            {
                Query q = conn->query("SELECT COUNT(*), MIN(created_ms) FROM events WHERE seq > ?",
                                      stats.published_seq);
                if (q.next()) {
                    stats.pending = q.int64(0);
                    if (const auto oldest = q.opt_int64(1)) {
                        stats.oldest_pending_age_ms =
                            std::max<std::int64_t>(0, clock_.unix_ms() - *oldest);
                    }
                }
            }
            {
                Query q = conn->query("SELECT COALESCE(MAX(seq), 0) FROM events");
                if (q.next()) stats.last_seq = q.int64(0);
            }
            snapshot.commit();
            return stats;
        });
    }

    Expected<std::vector<StreamLogEntry>, StoreError> stream_log(const StreamKey& stream,
                                                                 std::size_t limit) override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            // An event's relay batch is the first whose last_seq is at or past its seq, if that
            // one begins at or before it (batches cover disjoint seq ranges: one relay, in order).
            Query q = conn->query(
                "SELECT seq, event_id, version, type, occurred_at, created_ms, "
                "seq <= (SELECT published_seq FROM relay_state WHERE id = 1), "
                "(SELECT CASE WHEN b.first_seq <= events.seq THEN b.published_ms END "
                "FROM relay_batches b WHERE b.last_seq >= events.seq ORDER BY b.last_seq LIMIT 1) "
                "FROM events WHERE stream_type = ? AND stream_id = ? ORDER BY version DESC LIMIT ?",
                std::string(stream_type_name(stream.type)), stream.id, limit);
            std::vector<StreamLogEntry> out;
            while (q.next()) {
                StreamLogEntry e{q.int64(0), q.text(1),  q.int64(2),     q.text(3),
                                 q.text(4),  q.int64(5), q.int64(6) != 0};
                if (e.published) e.published_ms = q.opt_int64(7);
                out.push_back(std::move(e));
            }
            std::reverse(out.begin(), out.end());
            return out;
        });
    }

    Expected<void, StoreError> check_ready() override {
        return guard_port("sqlite", [&] {
            auto conn = readers_->acquire();
            sqlite::check_migrations_applied(*conn, sqlite::write_store_migrations());
        });
    }

    void set_commit_listener(std::function<void()> listener) override {
        writer_->set_commit_listener(std::move(listener));
    }

  private:
    std::unique_ptr<SqliteConnectionPool> readers_;
    std::unique_ptr<SqliteBatchingWriter> writer_;
    const Clock& clock_;
    std::unique_ptr<sqlite::IdempotencyRetention> retention_;  // null: records kept forever
    BatchTimesPruning pruning_{clock_};
};

}  // namespace

Expected<std::unique_ptr<WriteStore>, StoreError> make_sqlite_write_store(
    const SqliteWriteStoreOptions& options, const Clock& clock, CommandRules rules) {
    return guard_port("sqlite", [&]() -> std::unique_ptr<WriteStore> {
        if (options.path.empty())
            throw StoreFailure(sqlite::internal_error("sqlite: write store path is empty"));
        sqlite::ConnectionOptions conn_options;
        conn_options.path = options.path;
        conn_options.durable = options.durable;
        Connection conn = Connection::open(conn_options);
        sqlite::apply_migrations(conn, sqlite::write_store_migrations());
        auto readers = std::make_unique<SqliteConnectionPool>(options.path, options.readers);
        auto writer = std::make_unique<SqliteBatchingWriter>(
            std::move(conn), clock, std::move(rules),
            sqlite::BatchingWriterOptions{options.max_queue, options.max_batch});
        return std::make_unique<SqliteWriteStore>(std::move(readers), std::move(writer), clock,
                                                  options);
    });
}

}  // namespace ordinal
