// `ordinal migrate` for the embedded stores: open (creating the file), migrate, close.
#include "adapters/sqlite/sqlite_migrations.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "ports/port_guard.h"

namespace ordinal {
namespace {

Expected<void, StoreError> migrate_file(const std::string& path,
                                        std::span<const sqlite::Migration> migrations) {
    return guard_port("sqlite", [&] {
        if (path.empty()) throw StoreFailure(sqlite::internal_error("sqlite: store path is empty"));
        sqlite::ConnectionOptions options;
        options.path = path;
        sqlite::Connection conn = sqlite::Connection::open(options);
        sqlite::apply_migrations(conn, migrations);
    });
}

}  // namespace

Expected<void, StoreError> migrate_sqlite_write_store(const std::string& path) {
    return migrate_file(path, sqlite::write_store_migrations());
}

Expected<void, StoreError> migrate_sqlite_read_store(const std::string& path) {
    return migrate_file(path, sqlite::read_store_migrations());
}

}  // namespace ordinal
