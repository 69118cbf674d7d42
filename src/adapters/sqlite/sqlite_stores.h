#pragma once
// The embedded (SQLite) stores of the default deployment profile: factories returning the ports.
// Each store lives in its own file; the write store and the read store must not share one.
#include <chrono>
#include <cstddef>
#include <cstdint>
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

struct SqliteWriteStoreOptions {
    std::string path;
    std::size_t max_queue = 10000;  // queued commands beyond this are shed with Overloaded
    std::size_t max_batch = 256;    // commands sharing one transaction (one fsync)
    bool durable = true;            // synchronous=FULL: nothing acknowledged is lost on power loss
    std::size_t readers = 2;  // read connections for the relay, rebuilds and idempotency lookups

    // Idempotency records older than this are deleted (0: kept forever), in batches of
    // `retention_batch_rows`, every `retention_interval` (as on PostgreSQL).
    std::chrono::milliseconds idempotency_retention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds retention_interval{std::chrono::seconds(60)};
    std::int64_t retention_batch_rows = 1000;
};

// Opens (creating if needed) and migrates the write store; every command runs `rules` (the
// core's, from the composition root) in its savepoint. `clock` must outlive the store. Returns
// StoreError if the file cannot be opened, is not a database, or carries a schema newer than this
// release. The store's destructor fails queued commands with Unavailable.
Expected<std::unique_ptr<WriteStore>, StoreError> make_sqlite_write_store(
    const SqliteWriteStoreOptions& options, const Clock& clock, CommandRules rules);

struct SqliteReadStoreOptions {
    std::string path;
    std::size_t readers = 4;  // concurrent queries
};

// Opens (creating if needed) and migrates the read store; it projects by `rules` (the core's,
// from the composition root) and times its projection batches by `clock` (ports/batch_times.h),
// both of which must outlive it. Same failures as above.
Expected<std::unique_ptr<ReadStore>, StoreError> make_sqlite_read_store(
    const SqliteReadStoreOptions& options, const Clock& clock, const ProjectionRules& rules);

// Create-if-missing and apply pending migrations, then close (for `ordinal migrate`). Idempotent.
Expected<void, StoreError> migrate_sqlite_write_store(const std::string& path);
Expected<void, StoreError> migrate_sqlite_read_store(const std::string& path);

}  // namespace ordinal
