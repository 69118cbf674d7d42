// Connection::exec_pipeline, which the batching writers send each batch with (two round trips):
// results come back in order, a failing statement throws with its SQLSTATE and stops the ones
// after it, and the connection stays usable (its transaction failed, as after exec).
#include <gtest/gtest.h>

#include "adapters/postgres/pg_connection.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using pg::statement;

class PgPipeline : public ::testing::Test {
  protected:
    void SetUp() override {
        conn_ = pg::Connection::open(db_.url());
        conn_.exec_script("CREATE TABLE t (k text PRIMARY KEY, v bigint NOT NULL)");
    }
    std::int64_t count() { return conn_.exec("SELECT count(*) FROM t").int64(0, 0); }

    test_support::PgTestDatabase db_;
    pg::Connection conn_;
};

TEST_F(PgPipeline, ResultsComeBackInStatementOrder) {
    std::vector<pg::Result> r = conn_.exec_pipeline({
        statement("BEGIN"),
        statement("INSERT INTO t (k, v) VALUES ($1, $2), ($3, $4)", "a", 1, "b", 2),
        statement("SELECT k, v FROM t WHERE k = ANY($1::text[]) ORDER BY k",
                  std::vector<std::string>{"a", "b", "c"}),
        statement("COMMIT"),
    });
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[1].affected(), 2);
    ASSERT_EQ(r[2].rows(), 2);
    EXPECT_EQ(r[2].text(0, 0), "a");
    EXPECT_EQ(r[2].int64(1, 1), 2);
    EXPECT_FALSE(conn_.in_transaction());
    EXPECT_EQ(count(), 2);
    // The statements are prepared now; the same pipeline runs again on them.
    r = conn_.exec_pipeline({statement("SELECT k, v FROM t WHERE k = ANY($1::text[]) ORDER BY k",
                                       std::vector<std::string>{"b"})});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].rows(), 1);
}

TEST_F(PgPipeline, AFailingStatementThrowsItsStateAndTheRestIsNotRun) {
    conn_.exec("INSERT INTO t (k, v) VALUES ('taken', 0)");
    try {
        conn_.exec_pipeline({
            statement("BEGIN"),
            statement("INSERT INTO t (k, v) VALUES ($1, $2)", "x", 1),
            statement("INSERT INTO t (k, v) VALUES ($1, $2)", "taken", 2),  // unique violation
            statement("INSERT INTO t (k, v) VALUES ($1, $2)", "y", 3),
            statement("COMMIT"),
        });
        FAIL() << "no exception";
    } catch (const pg::PgFailure& f) {
        EXPECT_EQ(f.sqlstate, pg::kUniqueViolation);
        EXPECT_EQ(f.error.kind, StoreError::Kind::Internal);
    }
    EXPECT_TRUE(conn_.healthy());
    EXPECT_TRUE(conn_.in_failed_transaction());  // the COMMIT was skipped with the rest
    conn_.exec_script("ROLLBACK");
    EXPECT_EQ(count(), 1);  // neither x (rolled back) nor y (not run)

    // The connection is as good as new, in and out of pipelines.
    conn_.exec_pipeline({statement("INSERT INTO t (k, v) VALUES ($1, $2)", "y", 3)});
    EXPECT_EQ(count(), 2);
}

TEST_F(PgPipeline, ALostConnectionIsUnavailableAndReconnects) {
    conn_.exec_pipeline({statement("SELECT 1"), statement("SELECT 2")});  // prepared
    pg::Connection admin = pg::Connection::open(db_.url());
    const std::string pid = conn_.exec("SELECT pg_backend_pid()").text(0, 0);
    admin.exec("SELECT pg_terminate_backend($1::int)", pid);
    try {
        conn_.exec_pipeline({statement("SELECT 1"), statement("SELECT 2")});
        FAIL() << "no exception";
    } catch (const pg::PgFailure& f) {
        EXPECT_EQ(f.error.kind, StoreError::Kind::Unavailable) << f.error.message;
    }
    EXPECT_FALSE(conn_.healthy());
    conn_.reconnect();
    std::vector<pg::Result> r = conn_.exec_pipeline({statement("SELECT 1"), statement("SELECT 2")});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[1].int64(0, 0), 2);
}

}  // namespace
}  // namespace ordinal
