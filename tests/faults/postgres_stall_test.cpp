// PostgreSQL hung, not gone: every process of the server stopped with SIGSTOP, so connections
// stay open and the kernel acknowledges what is sent, but no query ever answers (a frozen VM, a
// server stuck on its disk). A relay+projector process's /readyz, /metrics and admin status were
// answered by checks that queried the stores on the request's thread and hung with them, while
// the process looked alive. A stall is a failure too: each answers within a bound — /readyz 503
// saying the stores stalled, /metrics with the stall gauge, the status without the stores — one
// line is logged, and all is well again once the server runs again.
#include <regex>

#include "faults/scenarios.h"

namespace ordinal::test {
namespace {

// The service waits 3 s for the stores (kStoreCheckBound); the rest is slack for a loaded machine.
using Ms = std::chrono::milliseconds;
constexpr auto kAnswerBound = std::chrono::seconds(8);

class PostgresStall : public PostgresScenario {
  protected:
    void SetUp() override {
        process_logs_ = [this] { return "---- node log ----\n" + node_.log() + "\n"; };
        ASSERT_NO_THROW(node_.start());
        ASSERT_TRUE(eventually([&] { return get("/readyz").status == 200; },
                               std::chrono::seconds(30), Ms(100)));
    }

    void TearDown() override {
        if (frozen_) pg_.thaw();  // never leave the server stopped, whatever failed
        PostgresScenario::TearDown();
    }

    HttpResponse get(const std::string& path) {
        HttpClient c(node_.port(), "127.0.0.1", std::chrono::seconds(30));
        return c.get(path);
    }

    // GET `path`, expected to be answered within kAnswerBound.
    HttpResponse timed_get(const std::string& path) {
        const auto start = Clock::now();
        HttpResponse r;
        EXPECT_NO_THROW(r = get(path)) << path << " got no answer within 30 s";
        const auto took = Clock::now() - start;
        EXPECT_LE(took, kAnswerBound)
            << path << " took " << std::chrono::duration_cast<Ms>(took).count() << " ms";
        std::cout << path << " answered " << r.status << " after "
                  << std::chrono::duration_cast<Ms>(took).count() << " ms\n";
        return r;
    }

    std::size_t count_in_log(const std::string& text) {
        const std::string log = node_.log();
        std::size_t n = 0;
        for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
        return n;
    }

    ServerProcess node_{ORDINAL_BINARY, "", logs_.path(),
                        std::vector<std::string>{"--roles", "relay,projector", "--write-db",
                                                 write_db_, "--read-db", read_db_}};
    bool frozen_ = false;
};

TEST_F(PostgresStall, AProjectorAnswersReadinessMetricsAndStatusWithinABoundWhilePostgresIsHung) {
    ASSERT_TRUE(pg_.freeze());
    frozen_ = true;

    const HttpResponse ready = timed_get("/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(ready.body.find("stalled or unreachable"), std::string::npos) << ready.body;
    EXPECT_TRUE(ready.header("Retry-After").has_value());
    // Asked again while the first check still hangs: bounded again, not queued behind it.
    EXPECT_EQ(timed_get("/readyz").status, 503);

    const HttpResponse metrics = timed_get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_TRUE(std::regex_search(metrics.body,
                                  std::regex(R"(ordinal_probe_stalled\{probe="readiness"\} 1\n)")))
        << metrics.body;
    EXPECT_TRUE(std::regex_search(metrics.body,
                                  std::regex(R"(ordinal_probe_stalled\{probe="metrics"\} 1\n)")))
        << metrics.body;

    const HttpResponse status = timed_get("/v1/admin/status");
    EXPECT_EQ(status.status, 200) << status.body;
    EXPECT_NE(status.body.find("stalled or unreachable"), std::string::npos) << status.body;

    EXPECT_EQ(count_in_log("gave the readiness check no answer"), 1u)
        << "the stall is logged once, not per request";

    ASSERT_TRUE(pg_.thaw());
    frozen_ = false;
    EXPECT_TRUE(
        eventually([&] { return get("/readyz").status == 200; }, std::chrono::seconds(30), Ms(200)))
        << "not ready again after the server answers again";
    EXPECT_TRUE(eventually(
        [&] {
            return std::regex_search(get("/metrics").body,
                                     std::regex(R"(ordinal_probe_stalled\{probe="metrics"\} 0\n)"));
        },
        std::chrono::seconds(30), Ms(200)));
    EXPECT_EQ(count_in_log("the readiness check of the stores answers again"), 1u);
}

}  // namespace
}  // namespace ordinal::test
