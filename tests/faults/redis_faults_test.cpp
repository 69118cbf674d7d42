// Fault campaign, idempotency cache on Redis (`--cache redis://…`, embedded stores): the Redis
// server stopped and started mid-load, and the service SIGKILLed while Redis keeps the answers it
// cached; then both judges (see support/fault_campaign.h). The Redis server is the scenario's own.
#include "support/fault_campaign.h"
#include "support/private_redis.h"
#include "support/process_runner.h"

namespace ordinal::test {
namespace {

class RedisFaults : public FaultScenario {
  protected:
    void SetUp() override {
        process_logs_ = [this] { return "---- last server log ----\n" + server_.log() + "\n"; };
        ASSERT_NO_THROW(start_server());
    }
    void start_server() {
        server_.start();
        api_port_ = server_.port();
    }
    void run_rounds_with_redis(const std::function<void(int cycle)>& cycle) {
        run_rounds(3, cycle, {"--data-dir", data_.path()}, 100);
        // The check repeats every acknowledged key: Redis must have answered some of them, or
        // the scenario never had the cache in play.
        const std::string metrics = OrdinalApi(server_.port()).get("/metrics").body;
        const std::string line = "ordinal_idempotency_repeats_total{answered_by=\"cache\"} ";
        const auto at = metrics.find(line);
        ASSERT_NE(at, std::string::npos) << metrics;
        EXPECT_GT(std::stol(metrics.substr(at + line.size())), 0) << metrics;
    }

    PrivateRedis redis_;
    ScratchDir data_{"ordinal-faults-data"};
    // The faults here are Redis stopped and the service killed, not a slow Redis: with the
    // default 5 ms per command, a CI machine at load 9 (the Kafka campaign beside this one) had
    // Redis answer late often enough that the cache stayed marked down through the whole check,
    // no repeat was answered from it, and the check below failed (every answer was still right).
    ServerProcess server_{ORDINAL_BINARY,
                          data_.path(),
                          logs_.path(),
                          {"--cache", redis_.url(), "--cache-timeout-ms", "100"}};
};

// While Redis is away every lookup is a miss and the write store's unique key answers repeats;
// when it is back, it may lack answers given meanwhile, never hold a wrong one.
TEST_F(RedisFaults, CacheServerStoppedAndStartedMidLoad) {
    run_rounds_with_redis([this](int) {
        pause_about(1200);
        redis_.down();
        pause_about(1000);
        redis_.up();
    });
}

// Unlike the in-process cache, Redis outlives the service: what it answers after a restart must be
// what the write store committed before the crash.
TEST_F(RedisFaults, ServiceKilledAndRestartedWhileRedisKeepsItsAnswers) {
    run_rounds_with_redis([this](int) {
        pause_about(2000);
        server_.kill9();
        ASSERT_NO_THROW(start_server());
    });
}

}  // namespace
}  // namespace ordinal::test
