#pragma once
// Bases of the fault scenarios on PostgreSQL: the write and read stores in two databases of a
// cluster of the scenario's own (so it may be restarted), and on top of that the production shape:
// api, relay and projector as separate processes on Apache Kafka (a broker or a 3-node cluster of
// the scenario's own), or on librdkafka's mock cluster for request-level faults.
#include <memory>
#include <string>
#include <vector>

#include "support/fault_campaign.h"
#include "support/kafka_broker.h"
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

// The production shape on top of that: api, relay and projector processes on a Kafka topic.
class KafkaTopologyScenario : public PostgresScenario {
  protected:
    void TearDown() override {
        PostgresScenario::TearDown();
        if (topo_) topo_->stop_all();  // before the broker goes: a clean leave, no hang on close
    }

    // The processes on `bus`, `projectors` of them, ready (holding every partition).
    void start_topology(const std::string& bus, int projectors = 1) {
        TopologyConfig c;
        c.write_db = write_db_;
        c.read_db = read_db_;
        c.bus = bus;
        topo_ = std::make_unique<KafkaTopology>(logs_.path(), c);
        process_logs_ = [this] { return topo_->logs() + broker_logs(); };
        ASSERT_NO_THROW(topo_->start_all(projectors)) << topo_->logs() << broker_logs();
        api_port_ = topo_->api().port();
    }

    void restart_api() {
        topo_->start_api();
        api_port_ = topo_->api().port();
    }

    virtual std::string broker_logs() { return {}; }

    std::unique_ptr<KafkaTopology> topo_;
};

// On Apache Kafka (tests/scripts/kafka_test_server.sh): a broker, or a cluster of `Brokers` nodes
// (replication factor 3, min.insync.replicas=2), of the scenario's own, which it may kill, stop
// and start again; a topic of 6 partitions on it.
template <int Brokers>
class RealKafkaScenario : public KafkaTopologyScenario {
  protected:
    void SetUp() override {
        ASSERT_NO_THROW(
            topic_ = std::make_unique<KafkaTopic>(6, kafka_.bootstrap(), Brokers >= 3 ? 3 : 1));
        start_topology(topic_->url(kFastKafkaTimeouts));
    }
    std::string broker_logs() override { return kafka_.logs(); }

    PrivateKafka kafka_{Brokers};
    std::unique_ptr<KafkaTopic> topic_;
};

using KafkaFaultScenario = RealKafkaScenario<1>;
using KafkaClusterFaultScenario = RealKafkaScenario<3>;

// On librdkafka's mock cluster (`ordinal dev-kafka`, fault commands on its stdin): only for what a
// real broker cannot be made to do on demand (see each test).
class KafkaMockFaultScenario : public KafkaTopologyScenario {
  protected:
    void SetUp() override { start_topology(kafka_.url(kFastKafkaTimeouts)); }

    MockKafka kafka_;
};

}  // namespace ordinal::test
