// The command line is part of the contract: subcommands, flag names, their environment
// variables (flag wins over environment), graceful stop on SIGTERM.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/http_expect.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

class Cli : public ::testing::Test {
  protected:
    std::string log(const std::string& name) { return logs_.path() + "/" + name + ".log"; }
    ScratchDir logs_{"ordinal-cli-logs"};
    ScratchDir data_{"ordinal-cli-data"};
};

int put_status(std::uint16_t port, const std::string& bearer) {
    HttpClient c(port);
    Headers h{{"Idempotency-Key", random_uuid()}};
    if (!bearer.empty()) h.emplace_back("Authorization", "Bearer " + bearer);
    return c
        .request("PUT", "/v1/products/" + unique_sku(), product_body("n", "EUR", 1, 1).dump(), h)
        .status;
}

TEST_F(Cli, VersionPrintsAndExitsZero) {
    const auto [code, out] = ChildProcess::run(ORDINAL_BINARY, {"version"}, log("version"));
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("ordinal"), std::string::npos) << out;
}

TEST_F(Cli, UnknownFlagOrRoleFails) {
    EXPECT_NE(ChildProcess::run(ORDINAL_BINARY, {"serve", "--no-such-flag"}, log("bad-flag")).first,
              0);
    EXPECT_NE(ChildProcess::run(ORDINAL_BINARY,
                                {"serve", "--listen", "127.0.0.1:0", "--data-dir", data_.path(),
                                 "--roles", "chef"},
                                log("bad-role"))
                  .first,
              0);
    EXPECT_NE(ChildProcess::run(ORDINAL_BINARY, {"frobnicate"}, log("bad-sub")).first, 0);
}

TEST_F(Cli, MigrateThenServe) {
    const auto [code, out] =
        ChildProcess::run(ORDINAL_BINARY, {"migrate", "--data-dir", data_.path()}, log("migrate"));
    ASSERT_EQ(code, 0) << out;
    EXPECT_FALSE(std::filesystem::is_empty(data_.path()));
    // Migrating twice is harmless.
    EXPECT_EQ(
        ChildProcess::run(ORDINAL_BINARY, {"migrate", "--data-dir", data_.path()}, log("migrate2"))
            .first,
        0);
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path());
    ASSERT_NO_THROW(server.start());
    HttpClient c(server.port());
    EXPECT_EQ(c.get("/readyz").status, 200);
}

TEST_F(Cli, ServeStopsGracefullyOnSigterm) {
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path());
    ASSERT_NO_THROW(server.start());
    OrdinalApi a(server.port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 10, 3);
    const auto order = a.create_order(random_uuid(), {{sku, 2}});
    const auto code = server.terminate(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value()) << "did not stop within 10 s";
    EXPECT_EQ(*code, 0) << server.log();
    // And everything acknowledged is there after a start.
    ASSERT_NO_THROW(server.start());
    OrdinalApi b(server.port());
    EXPECT_EQ(b.must_read("/v1/orders/" + order.order_id, order.token)["version"], 1);
    EXPECT_EQ(b.must_read("/v1/products/" + sku, join_tokens({put.token, order.token}))["stock"],
              1);
}

TEST_F(Cli, AdminTokenFromEnvironment) {
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path(), {},
                         {{"ORDINAL_ADMIN_TOKEN", "from-env"}});
    ASSERT_NO_THROW(server.start());
    EXPECT_EQ(put_status(server.port(), ""), 401);
    EXPECT_EQ(put_status(server.port(), "wrong"), 401);
    EXPECT_EQ(put_status(server.port(), "from-env"), 202);
}

TEST_F(Cli, AdminTokenFlagWinsOverEnvironment) {
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path(), {"--admin-token", "from-flag"},
                         {{"ORDINAL_ADMIN_TOKEN", "from-env"}});
    ASSERT_NO_THROW(server.start());
    EXPECT_EQ(put_status(server.port(), "from-env"), 401);
    EXPECT_EQ(put_status(server.port(), "from-flag"), 202);
}

TEST_F(Cli, ConfigFileIsTheLastResort) {
    const std::string config = data_.path() + "/ordinal.conf";
    {
        std::ofstream out(config);
        out << "# a comment\nadmin_token = \"from-config\"\nwriter-batch = 8\n";
    }
    ServerProcess from_config(ORDINAL_BINARY, data_.path() + "/a", logs_.path(),
                              {"--config", config});
    ASSERT_NO_THROW(from_config.start());
    EXPECT_EQ(put_status(from_config.port(), "from-config"), 202);
    EXPECT_EQ(put_status(from_config.port(), ""), 401);
    EXPECT_EQ(from_config.terminate(), 0);

    // The environment wins over the file.
    ServerProcess env_wins(ORDINAL_BINARY, data_.path() + "/b", logs_.path(), {"--config", config},
                           {{"ORDINAL_ADMIN_TOKEN", "from-env"}});
    ASSERT_NO_THROW(env_wins.start());
    EXPECT_EQ(put_status(env_wins.port(), "from-config"), 401);
    EXPECT_EQ(put_status(env_wins.port(), "from-env"), 202);
}

TEST_F(Cli, DataDirFromEnvironment) {
    const std::string dir = data_.path() + "/via-env";
    ServerProcess server(ORDINAL_BINARY, "", logs_.path(), {}, {{"ORDINAL_DATA_DIR", dir}});
    ASSERT_NO_THROW(server.start());
    OrdinalApi a(server.port());
    a.create_product(unique_sku(), 1, 1);
    EXPECT_TRUE(std::filesystem::exists(dir));
    EXPECT_FALSE(std::filesystem::is_empty(dir));
}

TEST_F(Cli, WriteAndReadDbUrls) {
    const std::string w = data_.path() + "/custom-write.db", r = data_.path() + "/custom-read.db";
    ServerProcess server(ORDINAL_BINARY, data_.path() + "/unused", logs_.path(),
                         {"--write-db", "sqlite://" + w, "--read-db", "sqlite://" + r});
    ASSERT_NO_THROW(server.start());
    OrdinalApi a(server.port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 1, 1);
    EXPECT_EQ(a.must_read("/v1/products/" + sku, put.token)["sku"], sku);
    EXPECT_TRUE(std::filesystem::exists(w));
    EXPECT_TRUE(std::filesystem::exists(r));
}

}  // namespace
}  // namespace ordinal::test
