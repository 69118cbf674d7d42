// Fencing on the read side: a projector that lost its partitions may still finish the batch it
// had begun. Its write of an order's next version, held up behind the new owner's commits, must
// not move the row back to an older version; and once the new owner has claimed the partition, no
// transaction of the old one that began after the claim writes anything. A claim waits for the
// one that began before it, so that the positions the new owner then reads include its work.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <span>
#include <thread>

#include "adapters/batch_times_pruning.h"
#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_projection.h"
#include "adapters/postgres/postgres_stores.h"
#include "contract/store_contract.h"
#include "core/projection_sequencer.h"
#include "support/pg_lock_waiters.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

const std::string kOrder = "0190a1b2-0000-7000-8000-00000000f00d";
const std::string kUser = "0190a1b2-0000-7000-8000-0000000000aa";

TEST(PgFencing, AZombiesLateWriteNeverMovesARowBack) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    auto store =
        make_postgres_read_store(PostgresReadStoreOptions{db.url()}, clock, projection_rules());
    ASSERT_TRUE(store) << store.error().message;
    const Event placed = contract::order_placed(kOrder, kUser, {{"SKU-1", 1, 100}}, {});
    ASSERT_TRUE((*store)->apply(std::vector<Event>{placed}, BusPosition{"p0", 1}));

    // The new owner is mid-commit on the row (version 3, shipped) while the zombie applies
    // version 2 from a batch it read before: the zombie waits on the row lock, then writes.
    pg::Connection owner = pg::Connection::open(db.url());
    owner.exec("BEGIN");
    owner.exec("SELECT 1 FROM orders_view WHERE order_id = $1 FOR UPDATE", kOrder);
    Expected<ProjectionResult, StoreError> zombie_result = ProjectionResult{};
    std::thread zombie([&] {
        const Event paid =
            contract::make_event(StreamType::Order, kOrder, 2, OrderPaid{"late", 100});
        zombie_result = (*store)->apply(std::vector<Event>{paid}, BusPosition{"p0", 2});
    });
    pg::Connection watcher = pg::Connection::open(db.url());
    bool waiting = false;
    for (int i = 0; i < 500 && !waiting; ++i) {
        waiting = watcher
                      .exec(
                          "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                          "current_database() AND wait_event_type = 'Lock'")
                      .int64(0, 0) > 0;
        if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(waiting) << "the zombie's write never waited on the row";
    owner.exec("UPDATE orders_view SET status = 'SHIPPED', version = 3 WHERE order_id = $1",
               kOrder);
    owner.exec("COMMIT");
    zombie.join();
    EXPECT_TRUE(zombie_result) << zombie_result.error().message;

    const auto order = (*store)->get_order(kOrder);
    ASSERT_TRUE(order && *order);
    EXPECT_EQ((*order)->version, 3);
    EXPECT_EQ((*order)->status, OrderStatus::Shipped);
}

TEST(PgFencing, AClaimWaitsForTheOldOwnersTransactionUnderWayAndFencesItsNextOne) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    auto store =
        make_postgres_read_store(PostgresReadStoreOptions{db.url()}, clock, projection_rules());
    ASSERT_TRUE(store) << store.error().message;
    const auto old_epoch = (*store)->claim_partition("p0");
    ASSERT_TRUE(old_epoch) << old_epoch.error().message;
    const Event placed = contract::order_placed(kOrder, kUser, {{"SKU-1", 1, 100}}, {});
    Delivery first{{placed}, {}, BusPosition{"p0", 1}};
    first.owner_epoch = *old_epoch;
    ASSERT_TRUE((*store)->apply_delivery(first, std::vector<std::int64_t>{0}));

    // The old owner's transaction is under way (past its fence check, its write held up on the
    // row) when the new owner claims the partition.
    pg::Connection blocker = pg::Connection::open(db.url());
    blocker.exec("BEGIN");
    blocker.exec("SELECT 1 FROM orders_view WHERE order_id = $1 FOR UPDATE", kOrder);
    Delivery paid{{contract::make_event(StreamType::Order, kOrder, 2, OrderPaid{"ref", 100})},
                  {},
                  BusPosition{"p0", 2}};
    paid.owner_epoch = *old_epoch;
    Expected<ProjectionResult, StoreError> old_result = ProjectionResult{};
    std::thread old_owner(
        [&] { old_result = (*store)->apply_delivery(paid, std::vector<std::int64_t>{1}); });
    pg::Connection watcher = pg::Connection::open(db.url());
    ASSERT_TRUE(test_support::wait_for_lock_waiters(watcher, 1))
        << "the old owner's write never waited on the row";

    std::atomic<bool> claimed{false};
    Expected<std::int64_t, StoreError> new_epoch = std::int64_t{0};
    std::thread new_owner([&] {
        new_epoch = (*store)->claim_partition("p0");
        claimed = true;
    });
    EXPECT_TRUE(test_support::wait_for_lock_waiters(watcher, 2))
        << "the claim did not wait for the transaction under way";
    EXPECT_FALSE(claimed.load());
    blocker.exec("COMMIT");
    old_owner.join();
    new_owner.join();
    ASSERT_TRUE(old_result) << "begun before the claim, it commits: " << old_result.error().message;
    ASSERT_TRUE(new_epoch) << new_epoch.error().message;
    EXPECT_EQ(*new_epoch, *old_epoch + 1);
    EXPECT_EQ(*(*store)->bus_position("p0"), 2) << "the claimer reads the position after it";

    // The old owner's next batch, after the claim: refused, nothing written.
    Delivery shipped{{contract::make_event(StreamType::Order, kOrder, 3, OrderShipped{})},
                     {},
                     BusPosition{"p0", 3}};
    shipped.owner_epoch = *old_epoch;
    const auto refused = (*store)->apply_delivery(shipped, std::vector<std::int64_t>{2});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Fenced) << refused.error().message;
    const auto order = (*store)->get_order(kOrder);
    ASSERT_TRUE(order && *order);
    EXPECT_EQ((*order)->version, 2);
    EXPECT_EQ((*order)->status, OrderStatus::Paid);
    EXPECT_EQ(*(*store)->bus_position("p0"), 2);
    shipped.owner_epoch = *new_epoch;
    EXPECT_TRUE((*store)->apply_delivery(shipped, std::vector<std::int64_t>{2}));
    EXPECT_EQ((*(*store)->get_order(kOrder))->version, 3);
}

// The fence costs no round trip: its check goes in the pipeline that already opens the
// transaction, so a Kafka delivery of placements is the same two round trips with an owner epoch
// as without one (the in-process bus's path, which carries none, is unchanged).
TEST(PgFencing, AFencedDeliveryCostsNoRoundTripMore) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    auto store =
        make_postgres_read_store(PostgresReadStoreOptions{db.url()}, clock, projection_rules());
    ASSERT_TRUE(store) << store.error().message;  // migrated
    const auto epoch = (*store)->claim_partition("p0");
    ASSERT_TRUE(epoch) << epoch.error().message;
    pg::Connection conn = pg::Connection::open(db.url());
    int n = 0;
    // Round trips of one delivery of three placements (their product rows locked, as always).
    auto round_trips = [&](std::int64_t owner_epoch) {
        Delivery d;
        std::vector<std::int64_t> offsets;
        for (int i = 0; i < 3; ++i, ++n) {
            char id[40];
            std::snprintf(id, sizeof id, "0190a1b2-0000-7000-8000-%012d", n);
            d.events.push_back(contract::order_placed(id, kUser, {{"SKU-1", 1, 100}}, {}));
            offsets.push_back(n);
        }
        d.position = BusPosition{"p0", n};
        d.owner_epoch = owner_epoch;
        const DeliveryPart part{&d, offsets};
        BatchTimesPruning pruning{clock};
        const std::uint64_t before = conn.sent().round_trips;
        {
            pg::Transaction tx(conn, nullptr);
            pg::project_deliveries(conn, projection_rules(),
                                   std::span<const DeliveryPart>(&part, 1), pruning);
        }
        return conn.sent().round_trips - before;
    };
    round_trips(0);  // each statement's first use prepares it: not counted below
    round_trips(*epoch);
    const auto unfenced = round_trips(0);
    const auto fenced = round_trips(*epoch);
    std::cout << "measured: round trips of a delivery of three placements: unfenced " << unfenced
              << ", fenced " << fenced << std::endl;
    EXPECT_EQ(unfenced, 2u);
    EXPECT_EQ(fenced, unfenced);
    EXPECT_EQ(*(*store)->bus_position("p0"), n);
}

}  // namespace
}  // namespace ordinal
