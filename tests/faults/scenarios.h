#pragma once
// Bases of the fault scenarios on PostgreSQL: the write and read stores in two databases of a
// cluster of the scenario's own (so it may be restarted), and on top of that the production shape:
// api, relay and projector as separate processes on a mock Kafka cluster (`ordinal dev-kafka`,
// fault commands on its stdin).
#include <memory>
#include <string>
#include <vector>

#include "support/fault_campaign.h"
#include "support/kafka_topology.h"
#include "support/mock_kafka.h"
#include "support/postgres_own_server.h"

namespace ordinal::test {

// Server settings of a cluster that keeps every acknowledged commit through an immediate stop:
// commits wait for their WAL write (synchronous_commit), while fsync may stay off because the
// machine itself does not crash in these tests.
inline const std::string kCrashSafePostgres =
    "-c fsync=off -c synchronous_commit=on -c full_page_writes=off -c max_connections=300";

class PostgresScenario : public FaultScenario {
  protected:
    // One fault cycle of a PostgreSQL restart: the server taken away for about a second, by a
    // clean (fast) shutdown on even cycles and by a crash (immediate stop, recovery from the WAL
    // at the next start) on odd ones. Sessions end either way, so every process must reconnect,
    // and commands whose COMMIT was cut off must settle to exactly one effect when retried.
    void restart_postgres(int cycle) {
        pause_about(1500);
        ASSERT_TRUE(cycle % 2 == 0 ? pg_.down() : pg_.crash());
        pause_about(800);
        ASSERT_TRUE(pg_.up());
    }

    test_support::OwnPostgresServer pg_{kCrashSafePostgres};
    const std::string write_db_ = pg_.create_database("ordinal_write");
    const std::string read_db_ = pg_.create_database("ordinal_read");
    // The stores, for `ordinal serve` and `ordinal verify`.
    const std::vector<std::string> store_args_{"--write-db", write_db_, "--read-db", read_db_};
};

class KafkaFaultScenario : public PostgresScenario {
  protected:
    void SetUp() override {
        TopologyConfig c;
        c.write_db = write_db_;
        c.read_db = read_db_;
        // Short timeouts so failover takes seconds: a dead projector's partitions move after 6 s,
        // a delivery that cannot complete fails after 3 s and is published again.
        c.bus = kafka_.url("session.timeout.ms=6000&message.timeout.ms=3000");
        topo_ = std::make_unique<KafkaTopology>(logs_.path(), c);
        process_logs_ = [this] { return topo_->logs(); };
        ASSERT_NO_THROW(topo_->start_all(1));
        api_port_ = topo_->api().port();
    }

    void restart_api() {
        topo_->start_api();
        api_port_ = topo_->api().port();
    }

    MockKafka kafka_;
    std::unique_ptr<KafkaTopology> topo_;
};

}  // namespace ordinal::test
