// `ordinal verify` end to end (support/verify_scenario.h): a healthy store is clean, planted drift
// is found with the right kind and stream, a store under load is clean. Compiled into the crash
// tier (SQLite, tests/crash/verify_sqlite_test.cpp) and the pg tier (tests/pg/pg_verify_test.cpp).
#include <atomic>
#include <thread>

#include "support/verify_scenario.h"

namespace ordinal::test {
namespace {

TEST_P(VerifyDrift, HealthyStoreIsCleanAndExitsZero) {
    const VerifyRun run = verify_strict();
    ASSERT_EQ(run.code, 0) << run;
    EXPECT_EQ(run.report["clean"], true);
    EXPECT_EQ(run.report["eventsChecked"], kEvents);
    EXPECT_EQ(run.report["streams"]["orders"], 4 + kExtraOrders);
    EXPECT_EQ(run.report["streams"]["products"], 2);
    EXPECT_GT(run.report["eventsPerSecond"].get<double>(), 0.0);

    // The human form, the default.
    const auto [code, out] = ChildProcess::run(
        ORDINAL_BINARY,
        [&] {
            std::vector<std::string> args{"verify"};
            for (const auto& a : backend_->store_args()) args.push_back(a);
            return args;
        }(),
        logs_.path() + "/human.log");
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("verify: clean"), std::string::npos) << out;
    EXPECT_NE(out.find("events/s"), std::string::npos) << out;
}

TEST_P(VerifyDrift, DeletedReadRowIsMissingInRead) {
    exec_read("DELETE FROM orders_view WHERE order_id = '" + paid_ + "'");
    // Committed seconds ago: within the default grace, the missing events are lag...
    VerifyRun run = verify();
    EXPECT_EQ(run.code, 0) << run;
    EXPECT_EQ(run.report["lag"]["streams"], 1) << run;
    // ...and past it, drift.
    run = verify_strict();
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_TRUE(run.has("missing_in_read", "order/" + paid_)) << run;
    EXPECT_EQ(run.report["findingsTotal"], 1) << run;
}

TEST_P(VerifyDrift, DoubledProjectionIsFound) {
    // What a projector without the version guard leaves: OrderPlaced's stock taken twice, and a
    // row whose version is behind its contents (the next redelivery would apply again).
    exec_read("UPDATE products_view SET stock = stock - 1 WHERE sku = '" + mug_ + "'");
    exec_read("UPDATE orders_view SET version = version - 1 WHERE order_id = '" + shipped_ + "'");
    const VerifyRun run = verify_strict();
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_TRUE(run.has("stock_mismatch", "product/" + mug_)) << run;
    EXPECT_TRUE(run.has("read_mismatch", "order/" + shipped_)) << run;
}

TEST_P(VerifyDrift, TamperedStockFigureIsFound) {
    exec_write("UPDATE products SET stock = stock + 5 WHERE sku = '" + mug_ + "'");
    exec_write("UPDATE products SET reserved = reserved + 1 WHERE sku = '" + pen_ + "'");
    const VerifyRun run = verify_strict();
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_TRUE(run.has("stock_mismatch", "product/" + mug_)) << run;
    EXPECT_TRUE(run.has("stock_mismatch", "product/" + pen_)) << run;
    EXPECT_EQ(run.report["findingsTotal"], 2) << run;
}

TEST_P(VerifyDrift, DeletedOutboxEventsAreFound) {
    // The last event of one stream (the rows are then ahead of the log) and a middle one.
    exec_write("DELETE FROM events WHERE stream_id = '" + paid_ + "' AND version = 2");
    exec_write("DELETE FROM events WHERE stream_id = '" + shipped_ + "' AND version = 2");
    const VerifyRun run = verify_strict();
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_TRUE(run.has("write_mismatch", "order/" + paid_)) << run;
    EXPECT_TRUE(run.has("read_ahead", "order/" + paid_)) << run;
    EXPECT_TRUE(run.has("version_gap", "order/" + shipped_)) << run;
    EXPECT_TRUE(run.has("idempotency_orphan")) << run;
}

TEST_P(VerifyDrift, MaxFindingsBoundsTheListNotTheCount) {
    exec_read("UPDATE orders_view SET total_minor = total_minor + 1");
    const VerifyRun run = verify_strict({"--max-findings", "3"});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_EQ(run.report["findings"].size(), 3u);
    EXPECT_EQ(run.report["counts"]["read_mismatch"], 4 + kExtraOrders);
}

// A live system: the read snapshot is taken while commands and projection run. Whatever the
// projection has not applied yet is lag, never drift.
TEST_P(VerifyLive, VerifyWhileLoadRunsReportsClean) {
    ASSERT_NO_THROW(server_->start());
    const std::string sku = unique_sku("LIVE");
    OrdinalApi(server_->port()).create_product(sku, 100, 1'000'000);
    std::atomic<bool> stop{false};
    std::atomic<int> commands{0};
    std::vector<std::thread> load;
    for (int t = 0; t < 3; ++t) {
        load.emplace_back([&, t] {
            OrdinalApi api(server_->port());
            for (int i = 0; !stop; ++i) {
                try {
                    const Ack a = api.create_order(random_uuid(), {{sku, 1 + i % 3}});
                    const int64_t total = 100 * (1 + i % 3);
                    if ((i + t) % 3 == 1) {
                        api.must_command("pay", a.order_id,
                                         {{"paymentRef", "p"}, {"amountMinor", total}});
                    } else if ((i + t) % 3 == 2) {
                        api.must_command("cancel", a.order_id, {{"reason", "r"}});
                    }
                    commands += 2;
                } catch (const std::exception& e) {
                    ADD_FAILURE() << e.what();
                    return;
                }
            }
        });
    }
    int runs = 0;
    std::int64_t lagging = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (runs < 3 || std::chrono::steady_clock::now() < deadline) {
        const VerifyRun run = verify();
        ASSERT_EQ(run.code, 0) << run;
        EXPECT_EQ(run.report["findingsTotal"], 0) << run;
        lagging += run.report["lag"]["streams"].get<std::int64_t>();
        ++runs;
    }
    RecordProperty("verify_runs", runs);
    RecordProperty("lagging_streams_seen", static_cast<int>(lagging));
    stop = true;
    for (auto& th : load) th.join();
    EXPECT_GT(commands.load(), 50);
    EXPECT_EQ(server_->terminate(), 0);
    // Commands that committed after the relay stopped stay in the outbox until the next start:
    // lag however small the grace, and exactly those events.
    const VerifyRun after = verify({"--max-projection-lag-s", "0"});
    EXPECT_EQ(after.code, 0) << after;
    EXPECT_EQ(after.report["lag"]["events"], after.report["outbox"]["pending"]) << after;
}

}  // namespace
}  // namespace ordinal::test
