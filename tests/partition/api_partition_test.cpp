// An api process cut off from PostgreSQL mid-load (the relay and projector, on host "node", keep
// their link): commands are answered 503 within a bound, never left hanging, nothing is written
// half, and once the link is back the api serves again.
#include "partition/partition_scenario.h"

namespace ordinal::test {
namespace {

// A command whose store calls hang on a dead connection would wait until the client side of
// libpq gives up (15 s of unacknowledged data: tcp_user_timeout, then a reconnect's
// connect_timeout, 5 s); the api answers it 503 at the request timeout (10 s) instead. /readyz
// waits 3 s for the stores. The slack is for a loaded machine.
constexpr auto kAnswerBound = std::chrono::seconds(13);
constexpr auto kReadyBound = std::chrono::seconds(6);

class ApiPartition : public PartitionScenario {
  protected:
    ApiPartition() : PartitionScenario({"node"}) {}

    void SetUp() override {
        ASSERT_NO_THROW(serve("api", "root", "api"));
        api_port_ = processes_["api"]->port();
        ASSERT_NO_THROW(serve("node", "node", "relay,projector"));
    }

    // A product upsert with its own key, answered within `timeout`; the status (0: no answer)
    // and how long it took.
    std::pair<int, Clock::duration> probe(const std::string& key, const std::string& sku,
                                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
        const auto start = Clock::now();
        try {
            OrdinalApi a(api_port_, {}, timeout);
            const json body{{"name", sku}, {"currency", "EUR"}, {"priceMinor", 100}, {"stock", 5}};
            return {a.put_product(sku, body, key).status, Clock::now() - start};
        } catch (const std::exception&) {
            return {0, Clock::now() - start};
        }
    }

    int readiness() {
        try {
            HttpClient c(api_port_, "127.0.0.1", std::chrono::seconds(30));
            return c.get("/readyz").status;
        } catch (...) {
            return -1;
        }
    }
};

TEST_F(ApiPartition, CutOffApiAnswers503WithinTheBoundAndServesAgainAfterHealing) {
    const std::string sku = unique_sku("PROBE");
    std::vector<std::string> probe_keys;
    run_rounds(
        1,
        [&](int) {
            pause(2000);
            const auto cut = Clock::now();
            hosts_.cut("root");
            // Commands sent while cut off: each is answered 503 within the request timeout —
            // never a hang, never a 500.
            for (int i = 0; i < 3; ++i) {
                probe_keys.push_back(random_uuid());
                const auto [status, took] = probe(probe_keys.back(), sku);
                EXPECT_EQ(status, 503) << "probe " << i << " after " << ms_since(cut) << " ms";
                EXPECT_LE(took, kAnswerBound) << "probe " << i;
                measured("api cut off: command " + std::to_string(i + 1) + " of 3 answered after",
                         took);
            }
            const auto ready_probe = Clock::now();
            EXPECT_EQ(readiness(), 503);
            EXPECT_LE(Clock::now() - ready_probe, kReadyBound);
            measured("api cut off: /readyz answered 503 after", Clock::now() - ready_probe);
            pause(3000);
            hosts_.heal("root");
            const auto healed = Clock::now();
            int status = 0;
            EXPECT_TRUE(eventually(
                [&] {
                    probe_keys.push_back(random_uuid());
                    status = probe(probe_keys.back(), sku, std::chrono::seconds(30)).first;
                    return status == 202;
                },
                std::chrono::seconds(60), Ms(200)))
                << "no command accepted within 60 s of healing; last " << status;
            measured("api healed: first command accepted after", Clock::now() - healed);
            EXPECT_TRUE(
                eventually([&] { return readiness() == 200; }, std::chrono::seconds(30), Ms(100)));
        },
        store_args_, 50);
    // Each probe answered 503 wrote nothing: retried with its key, it takes effect exactly once
    // (202 now, or 200 if an earlier try did get through), never a different outcome.
    for (const auto& key : probe_keys) {
        const auto [status, took] = probe(key, sku, std::chrono::seconds(30));
        EXPECT_TRUE(status == 202 || status == 200) << "probe retried: " << status;
    }
}

}  // namespace
}  // namespace ordinal::test
