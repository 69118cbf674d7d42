// Fault campaign, production shape (api, relay and projector processes on PostgreSQL and Kafka):
// each role SIGKILLed and restarted mid-load, and Kafka misbehaving (brokers down and up, leader
// changes, request errors, slow brokers); then both judges (see support/fault_campaign.h).
#include "faults/scenarios.h"

namespace ordinal::test {
namespace {

using KafkaRoleFaults = KafkaFaultScenario;
using KafkaBrokerFaults = KafkaFaultScenario;

// Commands in flight when the api dies may have committed: their retries must answer duplicate.
TEST_F(KafkaRoleFaults, ApiKilledAndRestartedMidLoad) {
    run_rounds(
        3,
        [this](int) {
            pause_about(1500);
            topo_->api().kill9();
            ASSERT_NO_THROW(restart_api());
        },
        store_args_, 50);
}

// A relay that dies between a delivery and marking it published publishes it again.
TEST_F(KafkaRoleFaults, RelayKilledAndRestartedMidLoad) {
    run_rounds(
        3,
        [this](int) {
            pause_about(1500);
            topo_->relay().kill9();
            pause(200);
            ASSERT_NO_THROW(topo_->start_relay());
        },
        store_args_, 50);
}

// A projector's positions live in the read store, committed with the rows: a restarted one seeks
// there, whatever it had fetched or committed to Kafka.
TEST_F(KafkaRoleFaults, ProjectorKilledAndRestartedMidLoad) {
    run_rounds(
        2,
        [this](int) {
            pause_about(1500);
            topo_->projector(0).kill9();
            ASSERT_NO_THROW(topo_->projector(0).start());
            // The dead member's session times out before the new one gets the partitions.
            ASSERT_NO_THROW(topo_->wait_partitions_held(6));
        },
        store_args_, 50);
}

TEST_F(KafkaBrokerFaults, BrokersDownAndUpLeaderChangesAndRequestErrorsMidLoad) {
    auto& rng = test_rng();
    auto broker = [&rng] { return std::to_string(1 + rng() % 3); };
    run_rounds(
        3,
        [&](int) {
            pause_about(600);
            for (int p = 0; p < 3; ++p)
                kafka_.command("leader " + std::to_string(rng() % 6) + " " + broker());
            kafka_.command("errors produce 4 NOT_LEADER_FOR_PARTITION");
            kafka_.command("errors produce 2 REQUEST_TIMED_OUT");
            kafka_.command("errors fetch 4 NOT_LEADER_FOR_PARTITION");
            kafka_.command("errors offset-commit 2 REQUEST_TIMED_OUT");
            pause_about(600);
            const std::string slow = broker();
            kafka_.command("rtt " + slow + " 300");
            const std::string away = broker();
            kafka_.command("broker-down " + away);  // one broker away: the others lead
            pause_about(800);
            kafka_.command("broker-up " + away);
            kafka_.command("rtt " + slow + " 0");
            pause_about(600);
            // Every broker away: the outbox grows (commands still succeed), then drains by itself.
            for (int b = 1; b <= 3; ++b) kafka_.command("broker-down " + std::to_string(b));
            pause_about(2000);
            for (int b = 1; b <= 3; ++b) kafka_.command("broker-up " + std::to_string(b));
        },
        store_args_, 50);
}

}  // namespace
}  // namespace ordinal::test
