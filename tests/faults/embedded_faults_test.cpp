// Fault campaign, embedded profile (SQLite, in-process bus): the one server process SIGKILLed and
// restarted on its data directory while clients keep sending commands; then both judges (see
// support/fault_campaign.h).
#include "support/fault_campaign.h"
#include "support/process_runner.h"

namespace ordinal::test {
namespace {

class EmbeddedFaults : public FaultScenario {
  protected:
    void SetUp() override {
        process_logs_ = [this] { return "---- last server log ----\n" + server_.log() + "\n"; };
    }
    void start_server() {
        server_.start();
        api_port_ = server_.port();
    }

    ScratchDir data_{"ordinal-faults-data"};
    ServerProcess server_{ORDINAL_BINARY, data_.path(), logs_.path()};
};

TEST_F(EmbeddedFaults, ServerKilledAndRestartedMidLoad) {
    ASSERT_NO_THROW(start_server());
    run_rounds(
        3,
        [this](int) {
            pause_about(2000);
            server_.kill9();  // mid-load: commands in the writer's batch, answers on the wire
            ASSERT_NO_THROW(start_server());
        },
        {"--data-dir", data_.path()}, 100);
}

}  // namespace
}  // namespace ordinal::test
