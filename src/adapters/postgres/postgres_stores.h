#pragma once
// The PostgreSQL stores of the production profile: factories returning the ports. `conninfo` is
// any libpq connection string or URI (postgresql://user:pass@host:port/db). The write and the
// read store may live in different databases or servers, or share one.
//
// Failures are values: a store that cannot reach the server answers StoreError{Unavailable} and
// reconnects by itself on later calls. Factories migrate the schema (safe when several processes
// start at once) and fail if the database carries a schema newer than this release.
#include <cstddef>
#include <memory>
#include <string>

#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/read_store.h"
#include "ports/store_error.h"
#include "ports/write_store.h"

namespace ordinal {

struct PostgresWriteStoreOptions {
    std::string conninfo;
    std::size_t connections = 4;    // writer threads (one connection each); reads get as many more
    std::size_t max_queue = 10000;  // queued commands beyond this are shed with Overloaded
    std::size_t max_batch = 128;    // commands sharing one transaction (a savepoint each)
};

// `clock` and `ids` must outlive the store. The destructor fails queued commands with Unavailable.
Expected<std::unique_ptr<WriteStore>, StoreError> make_postgres_write_store(
    const PostgresWriteStoreOptions& options, const Clock& clock, IdGenerator& ids);

struct PostgresReadStoreOptions {
    std::string conninfo;
    std::size_t connections = 4;  // concurrent queries (the projector has one more of its own)
};

// apply() also sends NOTIFY ordinal_projection inside its transaction, so other processes
// (API gates) can wake when projection progress commits.
Expected<std::unique_ptr<ReadStore>, StoreError> make_postgres_read_store(
    const PostgresReadStoreOptions& options);

// Apply pending migrations and disconnect (for `ordinal migrate`). Idempotent.
Expected<void, StoreError> migrate_postgres_write_store(const std::string& conninfo);
Expected<void, StoreError> migrate_postgres_read_store(const std::string& conninfo);

}  // namespace ordinal
