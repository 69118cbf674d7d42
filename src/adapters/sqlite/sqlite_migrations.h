#pragma once
// Versioned schema migrations for the two SQLite files. Each file records the versions applied
// to it in `schema_migrations`; migrations only ever get appended to these lists.
#include <span>

#include "adapters/schema_migrations.h"
#include "adapters/sqlite/sqlite_connection.h"

namespace ordinal::sqlite {

using Migration = migrations::Migration;  // adapters/schema_migrations.h

std::span<const Migration> write_store_migrations();
std::span<const Migration> read_store_migrations();

// Applies the migrations not yet recorded, in one IMMEDIATE transaction (so two processes
// migrating at once do not both apply one). Throws StoreFailure; Internal if the file holds a
// version this binary does not know (it was migrated by a newer release).
void apply_migrations(Connection& conn, std::span<const Migration> migrations);

// Throws StoreFailure (Internal) unless exactly `migrations` have been applied.
void check_migrations_applied(Connection& conn, std::span<const Migration> migrations);

}  // namespace ordinal::sqlite
