#pragma once
// PostgreSQL for tests: the URL of the throwaway server the CTest fixture `postgres` started
// (tests/scripts/postgres_test_server.sh writes it to ORDINAL_PG_URL_FILE), a fresh database per
// test (created with a random name, dropped with FORCE afterwards), and the StoreBackend the
// store contract suites run against.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_stores.h"
#include "contract/store_contract.h"
#include "core/command_executor.h"
#include "core/projection_sequencer.h"

namespace ordinal::test_support {

// The admin URL of the test server. Throws (the test fails, it never skips) if the fixture did
// not run or the file is empty.
inline std::string postgres_admin_url() {
    std::ifstream in(ORDINAL_PG_URL_FILE);
    std::string url;
    if (!in || !std::getline(in, url) || url.empty()) {
        throw std::runtime_error(
            std::string("no PostgreSQL test server: ") + ORDINAL_PG_URL_FILE +
            " is missing (run through ctest: the postgres_server_start fixture writes it)");
    }
    return url;
}

// `url` with its database name replaced.
inline std::string with_database(const std::string& url, const std::string& db) {
    const auto slash = url.rfind('/');
    const auto query = url.find('?', slash);
    return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

inline std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) out += kHex[rng() % 16];
    return out;
}

// A fresh database on the test server for one test; dropped (with FORCE) when destroyed.
class PgTestDatabase {
  public:
    PgTestDatabase() : admin_url_(postgres_admin_url()), name_("ordinal_t_" + random_suffix()) {
        pg::Connection admin = pg::Connection::open(admin_url_);
        admin.exec_script("CREATE DATABASE " + name_);
        url_ = with_database(admin_url_, name_);
    }
    ~PgTestDatabase() {
        try {
            pg::Connection admin = pg::Connection::open(admin_url_);
            admin.exec_script("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {
        }
    }
    PgTestDatabase(const PgTestDatabase&) = delete;
    PgTestDatabase& operator=(const PgTestDatabase&) = delete;

    const std::string& url() const { return url_; }

  private:
    std::string admin_url_;
    std::string name_;
    std::string url_;
};

}  // namespace ordinal::test_support

namespace ordinal::contract {

class PostgresBackend final : public StoreBackend {
  public:
    const std::string& url() const { return db_.url(); }

    Expected<std::unique_ptr<WriteStore>, StoreError> open_write_store(const Clock& clock,
                                                                       IdGenerator& ids) override {
        PostgresWriteStoreOptions options;
        options.conninfo = url();
        return make_postgres_write_store(options, clock, command_rules(clock, ids));
    }

    Expected<std::unique_ptr<ReadStore>, StoreError> open_read_store(const Clock& clock) override {
        PostgresReadStoreOptions options;
        options.conninfo = url();
        return make_postgres_read_store(options, clock, projection_rules());
    }

    std::optional<Product> peek_write_model_product(const std::string& sku) override {
        return peek(url(), sku);
    }

    // The write model's product row in the database at `url`.
    static std::optional<Product> peek(const std::string& url, const std::string& sku) {
        pg::Connection conn = pg::Connection::open(url);
        return pg::select_product(conn, sku, false);
    }

  private:
    test_support::PgTestDatabase db_;
};

// A factory that fails the test (ASSERT in the fixture) when the server is absent.
inline BackendFactory postgres_backend() {
    return BackendFactory{"Postgres", []() -> std::unique_ptr<StoreBackend> {
                              try {
                                  return std::make_unique<PostgresBackend>();
                              } catch (const std::exception& e) {
                                  ADD_FAILURE() << "PostgreSQL test database: " << e.what();
                                  return nullptr;
                              }
                          }};
}

}  // namespace ordinal::contract
