// What the publish and apply times cost on PostgreSQL (docs/console.md#publish-and-apply-times),
// held on the connection's own count of what it sent: a projection batch is still two round trips
// with its time row in the second (BEGIN, locks and prefetch; the writes, the position, the batch
// time and COMMIT), one row per batch that advanced something; the relay's marking, with its batch
// row and with the prune of old rows, is still one statement. The stream view's lookups are in the
// store contract (Postgres.*Contract).
#include <gtest/gtest.h>

#include <cstdio>
#include <span>

#include "adapters/batch_times_pruning.h"
#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_projection.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/postgres/postgres_stores.h"
#include "contract/store_contract.h"
#include "core/projection_sequencer.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

constexpr const char* kBatchTimesUser = "4f0d2a8e-1c7b-4e55-9a31-0b6c2d7e8f90";

std::string batch_times_order(int n) {
    char id[40];
    std::snprintf(id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", n);
    return id;
}

std::int64_t count_rows(pg::Connection& conn, const char* sql) {
    return conn.exec(sql).int64(0, 0);
}

TEST(PgBatchTimes, AProjectionBatchIsStillTwoRoundTripsWithItsTimeRow) {
    test_support::PgTestDatabase db;
    ASSERT_TRUE(migrate_postgres_read_store(db.url()));
    pg::Connection conn = pg::Connection::open(db.url());
    contract::FixedClock clock{contract::kT0};
    BatchTimesPruning pruning{clock};
    // Three placements on the "orders-0" partition of a Kafka-shaped delivery, from `first` on.
    const auto batch = [&](int first) {
        Delivery d;
        std::vector<std::int64_t> offsets;
        for (int i = first; i < first + 3; ++i) {
            d.events.push_back(contract::order_placed(batch_times_order(i), kBatchTimesUser,
                                                      {{"SKU-1", 1, 100}}, {{"SKU-1", 50 - i, i}}));
            offsets.push_back(i);
        }
        d.position = BusPosition{"orders-0", first + 3};
        const DeliveryPart part{&d, offsets};
        const pg::Connection::Sent before = conn.sent();
        pg::Transaction tx(conn, nullptr);  // BEGIN and COMMIT go in the batch's pipelines
        const auto results =
            pg::project_deliveries(conn, projection_rules(), std::span(&part, 1), pruning);
        EXPECT_EQ(results.at(0).applied, 3u);
        const pg::Connection::Sent after = conn.sent();
        return pg::Connection::Sent{after.round_trips - before.round_trips,
                                    after.statements - before.statements};
    };
    batch(1);  // prepares its statements on first use (a round trip each, once per connection)
    const pg::Connection::Sent sent = batch(4);
    EXPECT_EQ(sent.round_trips, 2u) << sent.statements << " statements";
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM projection_batches"), 2);
    const std::string streams =
        conn.exec("SELECT streams FROM projection_batches ORDER BY id DESC LIMIT 1").text(0, 0);
    EXPECT_NE(streams.find("\norder/" + batch_times_order(6) + " 1\n"), std::string::npos)
        << streams;

    // A redelivery advances nothing and records nothing.
    const pg::Connection::Sent before = conn.sent();
    {
        Delivery again;
        again.events.push_back(contract::order_placed(batch_times_order(4), kBatchTimesUser,
                                                      {{"SKU-1", 1, 100}}, {{"SKU-1", 46, 4}}));
        again.position = BusPosition{"orders-0", 7};
        const std::vector<std::int64_t> at{4};
        const DeliveryPart part{&again, at};
        pg::Transaction tx(conn, nullptr);
        EXPECT_EQ(pg::project_deliveries(conn, projection_rules(), std::span(&part, 1), pruning)
                      .at(0)
                      .skipped,
                  1u);
    }
    EXPECT_EQ(conn.sent().round_trips - before.round_trips, 2u);
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM projection_batches"), 2);
}

TEST(PgBatchTimes, TheRelaysMarkingRecordsItsBatchInItsOneStatement) {
    test_support::PgTestDatabase db;
    ASSERT_TRUE(migrate_postgres_write_store(db.url()));
    pg::Connection conn = pg::Connection::open(db.url());
    pg::mark_events_published(conn, {1, 2, 3}, 1000, std::nullopt);  // prepares it
    const pg::Connection::Sent before = conn.sent();
    pg::mark_events_published(conn, {5, 7}, 2000, std::nullopt);  // not a whole range
    pg::mark_events_published(conn, {8, 9}, 3000, 1500);          // and prunes what is older
    const pg::Connection::Sent after = conn.sent();
    EXPECT_EQ(after.round_trips - before.round_trips, 2u);
    EXPECT_EQ(after.statements - before.statements, 2u);
    const pg::Result r = conn.exec(
        "SELECT published_ms, first_seq, last_seq, COALESCE(array_to_string(seqs, ','), 'all') "
        "FROM relay_batches ORDER BY id");
    ASSERT_EQ(r.rows(), 2) << "the batch of 1000 pruned";
    EXPECT_EQ(r.int64(0, 0), 2000);
    EXPECT_EQ(r.text(0, 3), "5,7");
    EXPECT_EQ(r.int64(1, 0), 3000);
    EXPECT_EQ(r.int64(1, 1), 8);
    EXPECT_EQ(r.int64(1, 2), 9);
    EXPECT_EQ(r.text(1, 3), "all");
    EXPECT_EQ(count_rows(conn, "SELECT published_seq FROM relay_state WHERE id = 1"), 9);
}

}  // namespace
}  // namespace ordinal
