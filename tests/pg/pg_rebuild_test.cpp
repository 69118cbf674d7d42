// A rebuild, asked of any process, while three api processes keep committing on PostgreSQL:
// reading the log by sequence meets versions whose sequence was handed out before a later one's
// but committed after it. Every rebuild must complete, and the read model must end as a replay of
// the log. (Run 20 times in a row for issue 17: docs/guarantees.md, Faults and their bounds.)
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "support/order_load.h"
#include "support/ordinal_api.h"
#include "support/postgres_backend.h"
#include "support/process_runner.h"
#include "support/temp_dir.h"
#include "support/verify_run.h"

namespace ordinal {
namespace {

TEST(PgRebuild, RebuildsUnderThreeWritingApiProcessesCompleteAndMatchTheLog) {
    test_support::PgTestDatabase write_db;
    test_support::PgTestDatabase read_db;
    test_support::TempDir logs{"ordinal-pg-rebuild"};
    const std::vector<std::string> stores{"--write-db", write_db.url(), "--read-db", read_db.url()};
    // The relay and projector run in the first process; the other two take commands only.
    std::vector<std::unique_ptr<test::ServerProcess>> apis;
    for (int i = 0; i < 3; ++i) {
        std::vector<std::string> args = stores;
        if (i > 0) args.insert(args.end(), {"--roles", "api"});
        const std::string dir = logs.path().string() + "/api" + std::to_string(i);
        std::filesystem::create_directories(dir);
        apis.push_back(std::make_unique<test::ServerProcess>(ORDINAL_BINARY, "", dir, args));
        apis.back()->start();
    }
    std::vector<std::unique_ptr<test::OrderLoad>> loads;
    for (auto& api : apis) {
        auto* p = api.get();
        loads.push_back(std::make_unique<test::OrderLoad>([p] { return p->port(); }, 2, 3));
        // Paced, so the log a rebuild replays stays small on a loaded test machine; six clients
        // in three processes still commit concurrently.
        loads.back()->pace(std::chrono::milliseconds(25));
        loads.back()->start();
    }
    // Asked of every process in turn: the one that runs the projector, and the api-only ones,
    // which record the request for it and wait for its outcome. A rebuild replays the whole log
    // while the load goes on: give it time.
    for (int i = 0; i < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        const auto started = std::chrono::steady_clock::now();
        test::OrdinalApi admin(apis[i % 3]->port(), {}, std::chrono::seconds(120));
        const auto r = admin.admin_post("/v1/admin/projections/rebuild");
        EXPECT_EQ(r.status, 200) << "asked of process " << i % 3 << ": " << r << "\n"
                                 << apis[0]->log();
        std::cerr << "rebuild " << i << " (asked of process " << i % 3 << "): " << r.body << " in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count()
                  << " ms\n";
    }
    for (auto& load : loads) load->stop();
    for (auto& load : loads) {
        const auto problems = load->check();
        EXPECT_TRUE(problems.empty()) << load->summary() << "\n"
                                      << ::testing::PrintToString(problems);
        EXPECT_GT(load->acknowledged(), 0u) << load->summary();
    }
    // The read model equals a replay of the log: no drift, and (every acknowledged command read
    // back with its token above) nothing behind.
    const test::VerifyRun run = test::run_verify(stores, logs.path().string() + "/verify.log", {});
    EXPECT_EQ(run.code, 0) << run;
    ASSERT_TRUE(run.report.is_object()) << run;
    EXPECT_EQ(run.report["lag"]["events"], 0) << run;
}

}  // namespace
}  // namespace ordinal
