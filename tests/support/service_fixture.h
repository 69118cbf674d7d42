#pragma once
// A gtest fixture that runs the whole service in-process (Service::start, all roles, embedded
// SQLite stores in a scratch directory, port 0) and talks to it over real HTTP.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "adapters/sqlite/sqlite_stores.h"
#include "app/service.h"
#include "app/settings.h"
#include "core/projection_sequencer.h"
#include "core/system_clock.h"
#ifdef ORDINAL_PG_URL_FILE
#include "support/postgres_backend.h"
#endif
#ifdef ORDINAL_KAFKA_BOOTSTRAP_FILE
#include "support/kafka_broker.h"
#endif
#include "support/http_client.h"
#include "support/http_expect.h"
#include "support/kafka_topology.h"
#include "support/ordinal_api.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"

namespace ordinal::test {

// One in-process service over one data directory; can be stopped and started again.
class InProcessService {
  public:
    InProcessService(std::string data_dir, std::string admin_token = {})
        : data_dir_(std::move(data_dir)), admin_token_(std::move(admin_token)) {}
    ~InProcessService() { stop(); }

    void start() {
        Settings s;
        s.listen = "127.0.0.1:0";
        s.data_dir = data_dir_;
        s.admin_token = admin_token_;
        use_test_backend(s);
        if (const char* t = std::getenv("ORDINAL_TEST_TOPOLOGY"); t && std::string(t) == "kafka") {
            start_kafka_topology(s);
            return;
        }
        auto started = Service::start(s);
        if (!started) throw std::runtime_error("Service::start failed: " + started.error());
        service_ = std::move(*started);
        if (service_->port() == 0) throw std::runtime_error("Service::start gave no port");
    }
    void stop() {
        if (service_) service_->stop();
        service_.reset();
        if (topology_) topology_->stop_all();
        topology_running_ = false;
    }
    bool running() const { return service_ != nullptr || topology_running_; }
    std::uint16_t port() const {
        if (topology_running_) return topology_->api().port();
        return service_ ? service_->port() : 0;
    }
    const std::string& admin_token() const { return admin_token_; }
    const std::string& data_dir() const { return data_dir_; }

    // A second handle on the service's read store, to plant what no request can make (dead
    // letters of a bus that carries poison).
    std::unique_ptr<ReadStore> open_read_store() const {
        auto store = [this]() -> Expected<std::unique_ptr<ReadStore>, StoreError> {
#ifdef ORDINAL_PG_URL_FILE
            if (pg_read_) {
                PostgresReadStoreOptions options;
                options.conninfo = pg_read_->url();
                return make_postgres_read_store(options, clock_, projection_rules());
            }
#endif
            SqliteReadStoreOptions options;
            options.path = (std::filesystem::path(data_dir_) / "read.db").string();
            return make_sqlite_read_store(options, clock_, projection_rules());
        }();
        if (!store)
            throw std::runtime_error("cannot open the read store: " + store.error().message);
        return std::move(*store);
    }

  private:
    // ORDINAL_TEST_BACKEND=postgres runs the same suite with both stores on fresh databases of
    // the throwaway PostgreSQL server (kept across restarts of this service).
    void use_test_backend([[maybe_unused]] Settings& s) {
        // ORDINAL_TEST_CACHE=redis puts the idempotency cache on the redis fixture's server.
        if (const char* cache = std::getenv("ORDINAL_TEST_CACHE");
            cache && std::string(cache) == "redis") {
#ifdef ORDINAL_REDIS_URL_FILE
            std::ifstream in(ORDINAL_REDIS_URL_FILE);
            std::string url;
            if (!in || !std::getline(in, url) || url.empty()) {
                throw std::runtime_error("no Redis test server: " ORDINAL_REDIS_URL_FILE
                                         " is missing");
            }
            s.cache = url;
#else
            throw std::runtime_error(
                "ORDINAL_TEST_CACHE=redis, but this test binary was built without Redis");
#endif
        }
        const char* backend = std::getenv("ORDINAL_TEST_BACKEND");
        const char* topology = std::getenv("ORDINAL_TEST_TOPOLOGY");  // "kafka" implies PostgreSQL
        const bool postgres = (backend && std::string(backend) == "postgres") ||
                              (topology && std::string(topology) == "kafka");
        if (!postgres) return;
#ifdef ORDINAL_PG_URL_FILE
        if (!pg_write_) {
            pg_write_ = std::make_unique<test_support::PgTestDatabase>();
            pg_read_ = std::make_unique<test_support::PgTestDatabase>();
        }
        s.write_db = pg_write_->url();
        s.read_db = pg_read_->url();
#else
        throw std::runtime_error(
            "ORDINAL_TEST_BACKEND=postgres, but this test binary was built without PostgreSQL");
#endif
    }

    // ORDINAL_TEST_TOPOLOGY=kafka runs the suite against the production shape: api, relay and
    // projector as three `ordinal serve` processes on the PostgreSQL stores and a topic of this
    // service's own on the `kafka` fixture's broker (kept across restarts).
    void start_kafka_topology([[maybe_unused]] const Settings& s) {
#ifdef ORDINAL_KAFKA_BOOTSTRAP_FILE
        if (!kafka_) {
            kafka_ = std::make_unique<KafkaTopic>();
            TopologyConfig c;
            c.write_db = s.write_db;
            c.read_db = s.read_db;
            c.bus = kafka_->url();
            c.admin_token = admin_token_;
            topology_ = std::make_unique<KafkaTopology>(data_dir_ + "/processes", c);
        }
        topology_->start_all(1);
        topology_running_ = true;
#else
        throw std::runtime_error(
            "ORDINAL_TEST_TOPOLOGY=kafka, but this test binary was built without the Kafka "
            "fixture");
#endif
    }

    std::string data_dir_;
    std::string admin_token_;
    SystemClock clock_;  // the planting read stores' batch times
#ifdef ORDINAL_KAFKA_BOOTSTRAP_FILE
    std::unique_ptr<KafkaTopic> kafka_;
#endif
    std::unique_ptr<KafkaTopology> topology_;
    bool topology_running_ = false;
#ifdef ORDINAL_PG_URL_FILE
    std::unique_ptr<test_support::PgTestDatabase> pg_write_;
    std::unique_ptr<test_support::PgTestDatabase> pg_read_;
#endif
    std::unique_ptr<Service> service_;
};

class ServiceTest : public ::testing::Test {
  protected:
    // Overridden by fixtures that configure an admin token.
    virtual std::string configured_admin_token() const { return {}; }

    void SetUp() override {
        dir_ = std::make_unique<ScratchDir>();
        service_ = std::make_unique<InProcessService>(dir_->path(), configured_admin_token());
        service_->start();
        api_ = std::make_unique<OrdinalApi>(service_->port(), configured_admin_token());
    }
    void TearDown() override {
        api_.reset();
        if (service_) service_->stop();
        service_.reset();
        dir_.reset();
    }

    // Stops the service and starts it again on the same data directory (new port).
    void restart_service() {
        api_.reset();
        service_->stop();
        service_->start();
        api_ = std::make_unique<OrdinalApi>(service_->port(), configured_admin_token());
    }

    OrdinalApi& api() { return *api_; }
    HttpClient& http() { return api_->http(); }
    std::uint16_t port() const { return service_->port(); }
    const std::string& data_dir() const { return dir_->path(); }
    // A client of its own (for other threads or a second connection).
    std::unique_ptr<OrdinalApi> new_api() const {
        return std::make_unique<OrdinalApi>(service_->port(), configured_admin_token());
    }

    std::unique_ptr<ScratchDir> dir_;
    std::unique_ptr<InProcessService> service_;
    std::unique_ptr<OrdinalApi> api_;
};

inline constexpr const char* kTestAdminToken = "test-admin-token-7f3c";

class AdminServiceTest : public ServiceTest {
  protected:
    std::string configured_admin_token() const override { return kTestAdminToken; }
};

}  // namespace ordinal::test
