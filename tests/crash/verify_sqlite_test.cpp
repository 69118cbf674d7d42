// `ordinal verify` on the embedded stores: the shared end-to-end suites, plus what only SQLite
// shows easily (an api-only process leaves every event in the outbox) and the exit code 2 cases.
#include <filesystem>

#include "adapters/sqlite/sqlite_connection.h"
#include "support/verify_scenario.h"

namespace ordinal::test {
namespace {

class SqliteVerifyBackend final : public VerifyBackend {
  public:
    explicit SqliteVerifyBackend(std::string dir) : dir_(std::move(dir)) {}
    std::vector<std::string> store_args() const override { return {"--data-dir", dir_}; }
    void exec(bool write_side, const std::string& sql) override {
        sqlite::ConnectionOptions options;
        options.path = dir_ + (write_side ? "/write.db" : "/read.db");
        options.create = false;
        sqlite::Connection conn = sqlite::Connection::open(options);
        conn.exec(sql);
    }

  private:
    std::string dir_;
};

VerifyBackendFactory sqlite_verify_backend() {
    return {"Sqlite",
            [](const std::string& dir) { return std::make_unique<SqliteVerifyBackend>(dir); }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, VerifyDrift, ::testing::Values(sqlite_verify_backend()),
                         verify_backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, VerifyLive, ::testing::Values(sqlite_verify_backend()),
                         verify_backend_name);

class VerifyCli : public ::testing::Test {
  protected:
    std::string log(const std::string& name) { return logs_.path() + "/" + name + ".log"; }
    ScratchDir logs_{"ordinal-verify-cli-logs"};
    ScratchDir data_{"ordinal-verify-cli-data"};
};

// Without a relay nothing is published: the read model lacks every event, which is lag however
// small the grace, and the outbox bound alone judges how long that may last.
TEST_F(VerifyCli, UnpublishedEventsAreLagUntilTheOutboxBound) {
    ServerProcess api_only(ORDINAL_BINARY, data_.path(), logs_.path(), {"--roles", "api"});
    ASSERT_NO_THROW(api_only.start());
    OrdinalApi api(api_only.port());
    const std::string sku = unique_sku();
    api.create_product(sku, 100, 10);
    api.create_order(random_uuid(), {{sku, 2}});
    const std::vector<std::string> stores{"--data-dir", data_.path()};

    VerifyRun run = run_verify(stores, log("lag"), {"--max-projection-lag-s", "0"});
    EXPECT_EQ(run.code, 0) << run;
    EXPECT_EQ(run.report["lag"]["streams"], 2) << run;
    EXPECT_EQ(run.report["outbox"]["pending"], 2) << run;

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    run = run_verify(stores, log("stale"), {"--max-pending-age-s", "1"});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_TRUE(run.has("outbox_stale")) << run;
    EXPECT_EQ(run.report["findingsTotal"], 1) << run;
}

TEST_F(VerifyCli, StoresThatCannotBeReadExitTwoAndAreNotCreated) {
    const std::string missing = data_.path() + "/none";
    const auto [code, out] =
        ChildProcess::run(ORDINAL_BINARY, {"verify", "--data-dir", missing}, log("missing"));
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("cannot read the write store"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(missing));
    EXPECT_EQ(
        ChildProcess::run(ORDINAL_BINARY, {"verify", "--write-db", "kafka://h:1/t"}, log("kafka"))
            .first,
        2);
}

TEST_F(VerifyCli, BadFlagsExitTwo) {
    EXPECT_EQ(ChildProcess::run(ORDINAL_BINARY, {"verify", "--no-such-flag"}, log("flag")).first,
              2);
    EXPECT_EQ(
        ChildProcess::run(ORDINAL_BINARY, {"verify", "--max-findings", "many"}, log("value")).first,
        2);
    EXPECT_EQ(ChildProcess::run(ORDINAL_BINARY, {"verify", "--json", "--data-dir", data_.path()},
                                log("env"), {{"ORDINAL_MAX_PENDING_AGE_S", "-1"}})
                  .first,
              2);
}

}  // namespace
}  // namespace ordinal::test
