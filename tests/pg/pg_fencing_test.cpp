// Fencing on the read side: a projector that lost its partitions may still finish the batch it
// had begun. Its write of an order's next version, held up behind the new owner's commits, must
// not move the row back to an older version.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/postgres_stores.h"
#include "contract/store_contract.h"
#include "core/projection_sequencer.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

const std::string kOrder = "0190a1b2-0000-7000-8000-00000000f00d";
const std::string kUser = "0190a1b2-0000-7000-8000-0000000000aa";

TEST(PgFencing, AZombiesLateWriteNeverMovesARowBack) {
    test_support::PgTestDatabase db;
    auto store = make_postgres_read_store(PostgresReadStoreOptions{db.url()}, projection_rules());
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

}  // namespace
}  // namespace ordinal
