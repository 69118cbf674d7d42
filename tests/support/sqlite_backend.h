#pragma once
// The SQLite StoreBackend for the contract suites: both files in a fresh temp directory.
#include <memory>
#include <string>

#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "contract/store_contract.h"
#include "core/command_executor.h"
#include "core/projection_sequencer.h"
#include "support/temp_dir.h"

namespace ordinal::contract {

class SqliteBackend final : public StoreBackend {
  public:
    std::string write_path() const { return dir_.file("write.db"); }
    std::string read_path() const { return dir_.file("read.db"); }

    Expected<std::unique_ptr<WriteStore>, StoreError> open_write_store(const Clock& clock,
                                                                       IdGenerator& ids) override {
        SqliteWriteStoreOptions options;
        options.path = write_path();
        return make_sqlite_write_store(options, clock, command_rules(clock, ids));
    }

    Expected<std::unique_ptr<ReadStore>, StoreError> open_read_store(const Clock& clock) override {
        SqliteReadStoreOptions options;
        options.path = read_path();
        return make_sqlite_read_store(options, clock, projection_rules());
    }

    std::optional<Product> peek_write_model_product(const std::string& sku) override {
        sqlite::ConnectionOptions options;
        options.path = write_path();
        options.create = false;
        options.read_only = true;
        sqlite::Connection conn = sqlite::Connection::open(options);
        return sqlite::select_product(conn, sku);
    }

  private:
    test_support::TempDir dir_{"ordinal-sqlite"};
};

inline BackendFactory sqlite_backend() {
    return BackendFactory{"Sqlite", [] { return std::make_unique<SqliteBackend>(); }};
}

}  // namespace ordinal::contract
