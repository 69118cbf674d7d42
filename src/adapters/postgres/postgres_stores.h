#pragma once
// The PostgreSQL stores of the production profile: factories returning the ports. `conninfo` is
// any libpq connection string or URI (postgresql://user:pass@host:port/db). The write and the
// read store may live in different databases or servers, or share one.
//
// Failures are values: a store that cannot reach the server answers StoreError{Unavailable} and
// reconnects by itself on later calls. Factories migrate the schema (safe when several processes
// start at once) and fail if the database carries a schema newer than this release.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/command_rules.h"
#include "ports/projection_rules.h"
#include "ports/read_store.h"
#include "ports/store_error.h"
#include "ports/write_store.h"

namespace ordinal {

struct PostgresWriteStoreOptions {
    std::string conninfo;
    // Writer threads, one connection and one transaction each. One by default: measured under
    // issue 15's load, one writer's batches (commands queue while its transaction runs) beat
    // four writers splitting the load into smaller batches that wait for each other's row locks
    // (BENCHMARKS.md, "Fifth pass").
    std::size_t connections = 1;
    std::size_t reader_connections = 4;  // rebuilds, idempotency lookups, stats
    std::size_t max_queue = 10000;       // queued commands beyond this are shed with Overloaded
    std::size_t max_batch = 128;         // commands sharing one transaction (a savepoint each)

    // Relays: the outbox is split into `outbox_partitions` partitions by stream (stream hash mod
    // the count); each is owned by one relay at a time (a session advisory lock on a connection
    // of its own, taken on the first fetch_pending), so fetch_pending returns the events of this
    // store's partitions only. Every relay on one database must use the same count. Ownership
    // is re-balanced (and a dead relay's partitions taken over) every `relay_lease_refresh`.
    std::int64_t outbox_partitions = 16;
    std::chrono::milliseconds relay_lease_refresh{1000};

    // Idempotency records older than this are deleted (0: kept forever), in batches of
    // `retention_batch_rows`, by one process at a time, every `retention_interval`.
    std::chrono::milliseconds idempotency_retention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds retention_interval{std::chrono::seconds(60)};
    std::int64_t retention_batch_rows = 1000;
};

// Every command runs `rules` (the core's, from the composition root) in its transaction. `clock`
// must outlive the store. The destructor fails queued commands with Unavailable.
Expected<std::unique_ptr<WriteStore>, StoreError> make_postgres_write_store(
    const PostgresWriteStoreOptions& options, const Clock& clock, CommandRules rules);

struct PostgresReadStoreOptions {
    std::string conninfo;
    std::size_t connections = 4;  // concurrent queries (the projector has one more of its own)
};

// Once apply() committed, NOTIFY ordinal_projection goes out from a connection of its own
// (pg_notifier.h), so other processes (API gates) can wake when projection progress commits. It
// projects by `rules` (the core's, from the composition root) and times its projection batches
// by `clock` (ports/batch_times.h), both of which must outlive it.
Expected<std::unique_ptr<ReadStore>, StoreError> make_postgres_read_store(
    const PostgresReadStoreOptions& options, const Clock& clock, const ProjectionRules& rules);

// What a listener waits for: a projector in any process committed progress to the read store
// (ordinal_projection), or a writer in any process committed events to the outbox
// (ordinal_outbox).
enum class PgChannel { Projection, Outbox };

// Wakes `on_progress` whenever the database at `conninfo` is notified on `channel` by another
// process (LISTEN on a connection of its own; this process's own notifications are skipped: its
// relay and gate are told directly), and after every (re)connect, since notifications may have been
// missed meanwhile. Reconnects by itself; never throws. `on_progress` runs on the listener's
// thread: keep it short. The destructor stops it.
class PgNotifyListener {
  public:
    virtual ~PgNotifyListener() = default;
};
std::unique_ptr<PgNotifyListener> start_postgres_listener(const std::string& conninfo,
                                                          PgChannel channel,
                                                          std::function<void()> on_progress);

// Apply pending migrations and disconnect (for `ordinal migrate`). Idempotent.
Expected<void, StoreError> migrate_postgres_write_store(const std::string& conninfo);
Expected<void, StoreError> migrate_postgres_read_store(const std::string& conninfo);

}  // namespace ordinal
