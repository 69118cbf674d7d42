#pragma once
// Versioned schema migrations. Each store keeps its own version table, so the write and the read
// store may share one database. Applying takes a transaction-scoped advisory lock first, so two
// processes starting at once apply each migration exactly once (the second waits, then finds
// nothing left to do).
#include <cstdint>
#include <span>

#include "adapters/postgres/pg_connection.h"
#include "adapters/schema_migrations.h"

namespace ordinal::pg {

using Migration = migrations::Migration;  // adapters/schema_migrations.h

struct MigrationSet {
    const char* table;      // the version table
    std::int64_t lock_key;  // pg_advisory_xact_lock key
    std::span<const Migration> migrations;
};

const MigrationSet& write_store_migrations();
const MigrationSet& read_store_migrations();

// Throws PgFailure; Internal if the database carries versions unknown to this release.
void apply_migrations(Connection& conn, const MigrationSet& set);
// Throws PgFailure{Internal} unless every migration of `set` is applied (and no unknown one).
void check_migrations_applied(Connection& conn, const MigrationSet& set);

}  // namespace ordinal::pg
