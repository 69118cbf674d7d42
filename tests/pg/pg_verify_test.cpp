// `ordinal verify` with both stores on PostgreSQL: the shared end-to-end suites of
// tests/crash/verify_drift_test.cpp, and a store that cannot be reached.
#include "support/postgres_backend.h"
#include "support/verify_scenario.h"

namespace ordinal::test {
namespace {

class PostgresVerifyBackend final : public VerifyBackend {
  public:
    std::vector<std::string> store_args() const override {
        return {"--write-db", write_.url(), "--read-db", read_.url()};
    }
    void exec(bool write_side, const std::string& sql) override {
        pg::Connection conn = pg::Connection::open(write_side ? write_.url() : read_.url());
        conn.exec_script(sql);
    }

  private:
    test_support::PgTestDatabase write_;
    test_support::PgTestDatabase read_;
};

VerifyBackendFactory postgres_verify_backend() {
    return {"Postgres", [](const std::string&) -> std::unique_ptr<VerifyBackend> {
                try {
                    return std::make_unique<PostgresVerifyBackend>();
                } catch (const std::exception& e) {
                    ADD_FAILURE() << "PostgreSQL test database: " << e.what();
                    return nullptr;
                }
            }};
}

INSTANTIATE_TEST_SUITE_P(Postgres, VerifyDrift, ::testing::Values(postgres_verify_backend()),
                         verify_backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, VerifyLive, ::testing::Values(postgres_verify_backend()),
                         verify_backend_name);

TEST(PgVerify, UnreachableServerExitsTwo) {
    ScratchDir logs("ordinal-pg-verify");
    const std::string nowhere = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2";
    const auto [code, out] =
        ChildProcess::run(ORDINAL_BINARY, {"verify", "--write-db", nowhere, "--read-db", nowhere},
                          logs.path() + "/v.log");
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("cannot read the write store"), std::string::npos) << out;
}

}  // namespace
}  // namespace ordinal::test
