// What the publish and apply times cost on PostgreSQL (docs/console.md#publish-and-apply-times),
// held on the connection's own count of what it sent: a projection batch is still two round trips
// with its time row in the second (BEGIN, locks and prefetch; the writes, the position, the batch
// time and COMMIT), one row per batch that advanced something; the relay's marking, with its batch
// row and with the prune of old rows, is still one statement. The stream view's lookups are in the
// store contract (Postgres.*Contract).
#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <span>
#include <string>
#include <vector>

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

// A migrated read store, a connection of its own to project on, and the batch rows' pruning.
struct ProjectionConnection {
    test_support::PgTestDatabase db;
    bool migrated = static_cast<bool>(migrate_postgres_read_store(db.url()));
    pg::Connection conn = pg::Connection::open(db.url());
    contract::FixedClock clock{contract::kT0};
    BatchTimesPruning pruning{clock};
};

TEST(PgBatchTimes, AProjectionBatchIsStillTwoRoundTripsWithItsTimeRow) {
    ProjectionConnection on;
    ASSERT_TRUE(on.migrated);
    pg::Connection& conn = on.conn;
    BatchTimesPruning& pruning = on.pruning;
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

// A poll of several partitions is one transaction in the same two round trips as a poll of one,
// with one version read and one write of placements and of stock for all of them: only the
// positions are one statement each. It was two round trips and four statements per partition
// (BENCHMARKS.md, issue #11: a third of PostgreSQL's statements per order at 1,000 orders/s).
// Stock changes of one sku arrive from every partition, out of order: the highest stock_seq wins
// whichever partition carried it.
TEST(PgBatchTimes, APollOfThreePartitionsIsTwoRoundTripsAndOneWriteOfEachKind) {
    ProjectionConnection on;
    ASSERT_TRUE(on.migrated);
    pg::Connection& conn = on.conn;
    BatchTimesPruning& pruning = on.pruning;
    int n = 0;      // placements so far
    int polls = 0;  // each poll's changes are newer than the last poll's
    // `partitions` deliveries of two placements each on SKU-A and SKU-B, the stock_seq of the
    // changes descending with the partition (the last partition carries the poll's oldest).
    const auto poll = [&](int partitions) {
        const std::int64_t base = 1000 * ++polls;
        std::vector<Delivery> deliveries(static_cast<std::size_t>(partitions));
        std::vector<std::vector<std::int64_t>> offsets(deliveries.size());
        for (int p = 0; p < partitions; ++p) {
            for (int i = 0; i < 2; ++i, ++n) {
                const std::int64_t seq = base - 10 * p - i;
                deliveries[p].events.push_back(
                    contract::order_placed(batch_times_order(100 + n), kBatchTimesUser,
                                           {{"SKU-A", 1, 100}, {"SKU-B", 1, 100}},
                                           {{"SKU-A", seq, seq}, {"SKU-B", seq + 1, seq}}));
                offsets[p].push_back(n);
            }
            deliveries[p].position = BusPosition{"orders-" + std::to_string(p), n};
        }
        std::vector<DeliveryPart> parts;
        for (std::size_t p = 0; p < deliveries.size(); ++p)
            parts.push_back(DeliveryPart{&deliveries[p], offsets[p]});
        const pg::Connection::Sent before = conn.sent();
        {
            pg::Transaction tx(conn, nullptr);
            const auto results = pg::project_deliveries(conn, projection_rules(), parts, pruning);
            EXPECT_EQ(results.size(), deliveries.size());
            for (const auto& r : results) EXPECT_EQ(r.applied, 2u);
        }
        const pg::Connection::Sent after = conn.sent();
        return pg::Connection::Sent{after.round_trips - before.round_trips,
                                    after.statements - before.statements};
    };
    poll(1);  // each statement's first use prepares it: not counted below
    poll(3);
    const pg::Connection::Sent one = poll(1);
    const pg::Connection::Sent three = poll(3);
    std::cout << "measured: a poll of one partition " << one.round_trips << " round trips, "
              << one.statements << " statements; of three " << three.round_trips << ", "
              << three.statements << std::endl;
    EXPECT_EQ(one.round_trips, 2u);
    EXPECT_EQ(three.round_trips, 2u);
    EXPECT_EQ(three.statements, one.statements + 2) << "only the two more positions";

    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM orders_view"), n);
    // The newest changes are the last poll's first partition's first placement's.
    const std::int64_t newest = 1000 * polls;
    EXPECT_EQ(count_rows(conn, "SELECT stock FROM products_view WHERE sku = 'SKU-A'"), newest);
    EXPECT_EQ(count_rows(conn, "SELECT stock FROM products_view WHERE sku = 'SKU-B'"), newest + 1);
    // The last poll's partitions end after its 2nd, 4th and 6th placement.
    for (int p = 0; p < 3; ++p) {
        const std::string sql = "SELECT \"offset\" FROM bus_positions WHERE partition = 'orders-" +
                                std::to_string(p) + "'";
        EXPECT_EQ(count_rows(conn, sql.c_str()), n - 4 + 2 * p) << "partition " << p;
    }
}

// The in-process bus's batch (ReadStore::apply) is one transaction in the same two round trips as
// a Kafka poll: BEGIN, the product row locks and the version read; then the writes, the position,
// the batch row and COMMIT. It was five (BEGIN, the locks and the version read each alone, COMMIT
// after the writes).
TEST(PgBatchTimes, AnInProcessBatchIsTwoRoundTripsWithItsLocksAndCommit) {
    ProjectionConnection on;
    ASSERT_TRUE(on.migrated);
    pg::Connection& conn = on.conn;
    int n = 0;
    // Three placements on SKU-A and SKU-B (two product rows: the lock statement is sent).
    const auto batch = [&] {
        std::vector<Event> events;
        for (int i = 0; i < 3; ++i, ++n) {
            events.push_back(contract::order_placed(
                batch_times_order(200 + n), kBatchTimesUser, {{"SKU-A", 1, 100}, {"SKU-B", 1, 100}},
                {{"SKU-A", 500 - n, n}, {"SKU-B", 400 - n, n}}));
        }
        const pg::Connection::Sent before = conn.sent();
        {
            pg::Transaction tx(conn, nullptr);  // as PgReadStore::apply: rolled back on a throw
            const ProjectionResult r = pg::project_events(conn, projection_rules(), events,
                                                          BusPosition{"local", n}, on.pruning);
            EXPECT_EQ(r.applied, 3u);
        }
        const pg::Connection::Sent after = conn.sent();
        return after.round_trips - before.round_trips;
    };
    batch();  // prepares its statements on first use
    EXPECT_EQ(batch(), 2u);
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM orders_view"), n);
    EXPECT_EQ(count_rows(conn, "SELECT stock FROM products_view WHERE sku = 'SKU-A'"), 500 - 5);
    EXPECT_EQ(count_rows(conn, "SELECT stock FROM products_view WHERE sku = 'SKU-B'"), 400 - 5);
    EXPECT_EQ(count_rows(conn, "SELECT \"offset\" FROM bus_positions WHERE partition = 'local'"),
              n);
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM projection_batches"), 2);
    // Committed: another session sees the rows.
    pg::Connection other = pg::Connection::open(on.db.url());
    EXPECT_EQ(count_rows(other, "SELECT count(*) FROM orders_view"), n);
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
