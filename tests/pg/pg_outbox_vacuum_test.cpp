// The relay vacuums the outbox table itself (pg_write_store.cpp, vacuum_outbox_if_due): its dead
// rows are what the relay's reads walk, and autovacuum comes by at most once a minute.
#include <gtest/gtest.h>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_write_rows.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using contract::FixedClock;
using contract::kT0;

std::int64_t manual_vacuums_of_outbox(pg::Connection& conn) {
    // vacuum_count counts VACUUM commands only (autovacuum has its own column); the vacuuming
    // backend reports it when the command ends.
    return conn
        .exec("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = $1",
              std::string("outbox_pending"))
        .int64(0, 0);
}

// Commits `count` product events in one transaction, so they are all pending at once.
void commit_events(const std::string& url, IdGenerator& ids, int first, int count) {
    pg::Connection conn = pg::Connection::open(url);
    conn.exec_script("BEGIN");
    for (int i = first; i < first + count; ++i) {
        Event e = contract::product_upserted("SKU-" + std::to_string(i), 1, 5, 1);
        e.event_id = ids.new_uuid_v7();
        pg::insert_event(conn, e, {}, kT0);
    }
    conn.exec_script("COMMIT");
}

void relay_all(WriteStore& store) {
    for (;;) {
        auto batch = store.fetch_pending(500);
        ASSERT_TRUE(batch) << batch.error().message;
        if (batch->empty()) return;
        ASSERT_TRUE(store.mark_published(*batch));
    }
}

TEST(PgOutboxVacuum, TheRelayVacuumsTheOutboxOnceItHasMarkedEnoughRows) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    PostgresWriteStoreOptions options;
    options.conninfo = db.url();
    auto store = make_postgres_write_store(options, clock, command_rules(clock, ids));
    ASSERT_TRUE(store) << store.error().message;
    pg::Connection probe = pg::Connection::open(db.url());
    const std::int64_t before = manual_vacuums_of_outbox(probe);

    // Below the threshold (2,000 marked rows): no vacuum.
    commit_events(db.url(), ids, 0, 1500);
    relay_all(**store);
    EXPECT_EQ(manual_vacuums_of_outbox(probe), before);

    // Past it: one vacuum (the rest of this round, 500 rows, stays below the threshold).
    commit_events(db.url(), ids, 1500, 1000);
    relay_all(**store);
    EXPECT_EQ(manual_vacuums_of_outbox(probe), before + 1);
    auto stats = (*store)->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 0);
}

}  // namespace
}  // namespace ordinal
