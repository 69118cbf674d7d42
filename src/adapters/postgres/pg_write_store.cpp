// Twin of sqlite_write_store.cpp on purpose: the write store's port methods in PostgreSQL's dialect
// and client library (docs/building.md#repeated-code).
// WriteStore over PostgreSQL: commands go through the batching writers; reads (rebuilds,
// idempotency lookups, stats) use a pool of connections beside them. The relay's reads go
// through the outbox lease: the connection that holds this store's partitions.
#include <algorithm>
#include <memory>
#include <mutex>

#include "adapters/batch_times_pruning.h"
#include "adapters/postgres/pg_batching_writer.h"
#include "adapters/postgres/pg_idempotency_retention.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_outbox_lease.h"
#include "adapters/postgres/pg_pool.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_stores.h"
#include "domain/thread_annotations.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

using pg::Connection;
using pg::Result;

// How many relay batches the stream view looks through for one event's (stream_log).
constexpr std::int64_t kRelayBatchCandidates = 256;

class PgWriteStore final : public WriteStore {
  public:
    PgWriteStore(std::unique_ptr<pg::Pool> readers, std::unique_ptr<pg::PgBatchingWriter> writer,
                 const Clock& clock, pg::OutboxLeaseOptions lease,
                 std::unique_ptr<pg::IdempotencyRetention> retention)
        : readers_(std::move(readers)),
          writer_(std::move(writer)),
          clock_(clock),
          lease_options_(std::move(lease)),
          retention_(std::move(retention)) {}

    ~PgWriteStore() override {
        retention_.reset();
        writer_->stop();
    }

    void submit(CommandRequest request, Done done) override {
        writer_->submit(std::move(request), std::move(done));
    }

    Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string& key) override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            return pg::select_idempotency(*conn, key);
        });
    }

    // Only the partitions this store's lease owns. The lease is taken on the first call (so a
    // store that never relays, e.g. an API-only process, owns nothing) and refreshed on later
    // ones. The query runs on the session holding the locks: if that session is gone, so is the
    // ownership, and the call fails instead of handing out another relay's events.
    Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t limit) override {
        return fetch_pending_except(limit, {}, EventForm::Decoded);
    }

    Expected<std::vector<StoredEvent>, StoreError> fetch_pending_except(
        std::size_t limit, std::span<const std::int64_t> out, EventForm form) override {
        return guard_port("postgres", [&] {
            std::lock_guard lock(lease_mu_);
            if (!lease_) lease_ = std::make_unique<pg::OutboxLease>(lease_options_);
            const std::vector<std::int64_t>* held = nullptr;
            try {
                held = &lease_->owned();
            } catch (...) {
                share_owned({});  // the lease owns nothing after a failure
                throw;
            }
            const std::vector<std::int64_t>& owned = *held;
            share_owned(owned);
            if (owned.empty()) return std::vector<StoredEvent>{};
            return pg::select_pending_events_in(lease_->connection(), lease_->partitions(), owned,
                                                limit, {out.begin(), out.end()}, form);
        });
    }

    OutboxShare outbox_share() override {
        std::lock_guard lock(share_mu_);
        return OutboxShare{lease_options_.partitions, owned_copy_};
    }

    Expected<void, StoreError> mark_published(std::span<const StoredEvent> events) override {
        if (events.empty()) return {};
        return guard_port("postgres", [&] {
            std::vector<std::int64_t> seqs;
            seqs.reserve(events.size());
            for (const StoredEvent& e : events) seqs.push_back(e.seq);
            std::lock_guard lock(mark_mu_);
            // Marks commit without waiting for their WAL flush (synchronous_commit off on this
            // session only): a mark lost to a server crash only has its events published once
            // more, which the relay allows anyway (at least once; consumers skip the copies),
            // and the relay's marker no longer waits a disk flush per mark.
            if (!marker_.healthy()) {
                if (marker_.conninfo().empty()) {
                    marker_ = Connection::open(lease_options_.conninfo);
                } else {
                    marker_.reconnect();
                }
                marker_.exec_script("SET synchronous_commit = off");
            }
            const std::int64_t now = clock_.unix_ms();
            pg::mark_events_published(marker_, seqs, now, pruning_.due(now));
            vacuum_outbox_if_due(marker_, seqs.size());
        });
    }

    Expected<std::vector<StoredEvent>, StoreError> read_log(std::int64_t after_seq,
                                                            std::size_t limit) override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            return pg::select_events_after(*conn, after_seq, limit);
        });
    }

    Expected<OutboxStats, StoreError> outbox_stats() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            // One statement: one snapshot.
            Result r = conn->exec(
                "SELECT (SELECT published_seq FROM relay_state WHERE id = 1), "
                "(SELECT COUNT(*) FROM outbox_pending), "
                "(SELECT MIN(created_ms) FROM outbox_pending), "
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

    Expected<std::vector<StreamLogEntry>, StoreError> stream_log(const StreamKey& stream,
                                                                 std::size_t limit) override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            // A published event's relay batch: among the first kRelayBatchCandidates batches
            // whose range ends at or past its seq, the first that holds it (batches of several
            // relays interleave, and a late commit lands in a batch after higher seqs).
            Result r = conn->exec(
                "SELECT e.seq, e.event_id::text, e.version, e.type, e.occurred_at, e.created_ms, "
                "CASE WHEN p.seq IS NULL THEN 1 ELSE 0 END, rb.published_ms FROM events e "
                "LEFT JOIN outbox_pending p ON p.seq = e.seq "
                "LEFT JOIN LATERAL (SELECT b.published_ms FROM (SELECT published_ms, first_seq, "
                "last_seq, seqs FROM relay_batches WHERE p.seq IS NULL AND last_seq >= e.seq "
                "ORDER BY last_seq LIMIT $4) b WHERE b.first_seq <= e.seq AND (b.seqs IS NULL OR "
                "e.seq = ANY(b.seqs)) ORDER BY b.last_seq LIMIT 1) rb ON true "
                "WHERE e.stream_type = $1 AND e.stream_id = $2 ORDER BY e.version DESC LIMIT $3",
                std::string(stream_type_name(stream.type)), stream.id,
                static_cast<std::int64_t>(limit), kRelayBatchCandidates);
            std::vector<StreamLogEntry> out;
            for (int i = 0; i < r.rows(); ++i) {
                StreamLogEntry e{r.int64(i, 0), r.text(i, 1),  r.int64(i, 2),     r.text(i, 3),
                                 r.text(i, 4),  r.int64(i, 5), r.int64(i, 6) != 0};
                e.published_ms = r.opt_int64(i, 7);
                out.push_back(std::move(e));
            }
            std::reverse(out.begin(), out.end());
            return out;
        });
    }

    Expected<void, StoreError> check_ready() override {
        return guard_port("postgres", [&] {
            auto conn = readers_->acquire();
            pg::check_migrations_applied(*conn, pg::write_store_migrations());
        });
    }

    void set_commit_listener(std::function<void()> listener) override {
        writer_->set_commit_listener(std::move(listener));
    }

  private:
    void share_owned(const std::vector<std::int64_t>& owned) {
        std::lock_guard lock(share_mu_);
        owned_copy_ = owned;
        // Partitions are handed back only in the lease's refresh, just before this: a batch
        // committed in between sends no notice, and the partition's new owner finds its events
        // by its idle poll (--relay-idle-poll-ms) instead.
        writer_->set_outbox_notices(static_cast<std::int64_t>(owned.size()) <
                                    lease_options_.partitions);
    }

    // The outbox is a queue table: every published event leaves a dead row at its head, and the
    // relay's next reads walk every dead row an index scan cannot yet mark as dead to all, until
    // a vacuum removes them. Autovacuum looks at a table at most once a minute
    // (autovacuum_naptime), by when issue 15's load has left ~20,000 dead rows there and the
    // relay's read visited ~2,400 buffers per call. So the relay vacuums the (small) table
    // itself once it has marked kOutboxVacuumRows rows, at most every kOutboxVacuumEveryMs.
    // SKIP_LOCKED: another relay's vacuum is as good. TRUNCATE false: giving the emptied tail
    // pages back needs an exclusive lock that writers' inserts would queue behind (and vacuum
    // retries it for up to 5 s: ~400 ms per vacuum under load). INDEX_CLEANUP ON: the dead index
    // entries are what the relay's reads walk. A failed vacuum (e.g. a user who does not
    // own the table gets only a warning) changes nothing for the marking.
    static constexpr std::size_t kOutboxVacuumRows = 2000;
    static constexpr std::int64_t kOutboxVacuumEveryMs = 1000;
    void vacuum_outbox_if_due(Connection& conn, std::size_t marked) {
        const std::int64_t now = clock_.unix_ms();
        {
            std::lock_guard lock(vacuum_mu_);
            marked_since_vacuum_ += marked;
            if (marked_since_vacuum_ < kOutboxVacuumRows ||
                now - last_vacuum_ms_ < kOutboxVacuumEveryMs)
                return;
            marked_since_vacuum_ = 0;
            last_vacuum_ms_ = now;
        }
        try {
            conn.exec_script(
                "VACUUM (SKIP_LOCKED, TRUNCATE false, INDEX_CLEANUP ON) outbox_pending");
        } catch (const pg::PgFailure&) {
        }
    }

    std::unique_ptr<pg::Pool> readers_;
    std::unique_ptr<pg::PgBatchingWriter> writer_;
    const Clock& clock_;
    const pg::OutboxLeaseOptions lease_options_;
    std::mutex lease_mu_;
    std::unique_ptr<pg::OutboxLease> lease_ GUARDED_BY(lease_mu_);  // created by the first fetch
    // What the lease owned at the last fetch, for outbox_share() (which must not wait behind a
    // fetch holding lease_mu_).
    std::mutex share_mu_;
    std::vector<std::int64_t> owned_copy_ GUARDED_BY(share_mu_);
    std::unique_ptr<pg::IdempotencyRetention> retention_;  // null when records are kept forever
    std::mutex mark_mu_;
    Connection marker_ GUARDED_BY(mark_mu_);  // the relay's marks, opened by the first
    std::mutex vacuum_mu_;
    std::size_t marked_since_vacuum_ GUARDED_BY(vacuum_mu_) = 0;
    std::int64_t last_vacuum_ms_ GUARDED_BY(vacuum_mu_) = 0;
    BatchTimesPruning pruning_{clock_};
};

Expected<void, StoreError> migrate(const std::string& conninfo, const pg::MigrationSet& set) {
    return guard_port("postgres", [&] {
        if (conninfo.empty()) pg::throw_internal("connection string is empty");
        Connection conn = Connection::open(conninfo);
        pg::apply_migrations(conn, set);
    });
}

}  // namespace

Expected<std::unique_ptr<WriteStore>, StoreError> make_postgres_write_store(
    const PostgresWriteStoreOptions& options, const Clock& clock, CommandRules rules) {
    if (auto ok = migrate(options.conninfo, pg::write_store_migrations()); !ok)
        return unexpected(ok.error());
    return guard_port("postgres", [&]() -> std::unique_ptr<WriteStore> {
        auto readers = std::make_unique<pg::Pool>(options.conninfo, options.reader_connections);
        auto writer = std::make_unique<pg::PgBatchingWriter>(
            pg::BatchingWriterOptions{options.conninfo, options.connections, options.max_queue,
                                      options.max_batch},
            clock, std::move(rules));
        std::unique_ptr<pg::IdempotencyRetention> retention;
        if (options.idempotency_retention.count() > 0) {
            retention = std::make_unique<pg::IdempotencyRetention>(
                options.conninfo,
                pg::RetentionOptions{options.idempotency_retention, options.retention_interval,
                                     options.retention_batch_rows},
                clock);
        }
        return std::make_unique<PgWriteStore>(
            std::move(readers), std::move(writer), clock,
            pg::OutboxLeaseOptions{options.conninfo, options.outbox_partitions,
                                   options.relay_lease_refresh},
            std::move(retention));
    });
}

Expected<void, StoreError> migrate_postgres_write_store(const std::string& conninfo) {
    return migrate(conninfo, pg::write_store_migrations());
}

Expected<void, StoreError> migrate_postgres_read_store(const std::string& conninfo) {
    return migrate(conninfo, pg::read_store_migrations());
}

}  // namespace ordinal
