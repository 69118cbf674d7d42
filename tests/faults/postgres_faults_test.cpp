// Fault campaign, PostgreSQL restarted mid-load under the stores: a clean shutdown and a crash
// (immediate stop, crash recovery at the next start) in turn, with the in-process bus and with the
// production shape on Kafka; then both judges (see support/fault_campaign.h). The cluster is the
// scenario's own, so no other test sees it go.
#include "faults/scenarios.h"

namespace ordinal::test {
namespace {

class PostgresFaults : public PostgresScenario {
  protected:
    void SetUp() override {
        process_logs_ = [this] { return "---- server log ----\n" + server_.log() + "\n"; };
        ASSERT_NO_THROW(server_.start());
        api_port_ = server_.port();
    }

    ServerProcess server_{ORDINAL_BINARY, "", logs_.path(), store_args_};
};

TEST_F(PostgresFaults, ServerRestartedAndCrashedMidLoadWithTheInProcessBus) {
    run_rounds(
        4, [this](int cycle) { restart_postgres(cycle); }, store_args_, 50);
}

using PostgresKafkaFaults = KafkaFaultScenario;

TEST_F(PostgresKafkaFaults, ServerRestartedAndCrashedMidLoadUnderEveryRole) {
    run_rounds(
        4, [this](int cycle) { restart_postgres(cycle); }, store_args_, 50);
}

}  // namespace
}  // namespace ordinal::test
