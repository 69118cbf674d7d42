// Every PostgreSQL connection tells the server to probe it: a process cut off from the database
// (not closed) loses its session, and with it its advisory locks (a relay's outbox partitions),
// within seconds instead of the operating system's two hours.
#include <gtest/gtest.h>

#include "adapters/postgres/pg_connection.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

TEST(PgKeepalive, TheServerSideOfEveryConnectionProbesASilentPeer) {
    test_support::PgTestDatabase db;
    pg::Connection conn = pg::Connection::open(db.url());
    EXPECT_EQ(conn.exec("SHOW tcp_keepalives_idle").text(0, 0), "10");
    EXPECT_EQ(conn.exec("SHOW tcp_keepalives_interval").text(0, 0), "3");
    EXPECT_EQ(conn.exec("SHOW tcp_keepalives_count").text(0, 0), "3");
    EXPECT_EQ(conn.exec("SHOW tcp_user_timeout").text(0, 0), "15000");  // ms
    EXPECT_EQ(conn.exec("SHOW application_name").text(0, 0), "ordinal");
}

// A URL's own options win over the defaults.
TEST(PgKeepalive, TheUrlOverridesTheDefaults) {
    test_support::PgTestDatabase db;
    const std::string url = db.url() + (db.url().find('?') == std::string::npos ? "?" : "&") +
                            "options=-c%20tcp_keepalives_idle%3D42";
    pg::Connection conn = pg::Connection::open(url);
    EXPECT_EQ(conn.exec("SHOW tcp_keepalives_idle").text(0, 0), "42");
}

}  // namespace
}  // namespace ordinal
