// Two projectors (two read stores, as two processes) applying orders of different partitions that
// share products: each transaction writes the rows of products it touches (stock), and a poll of
// several partitions writes them in several statements. Taken in the order the events come, two
// projectors that meet the same products in opposite orders deadlock; PostgreSQL then aborts one
// of them after deadlock_timeout, and that batch is retried. The read store takes every product
// row of a transaction first, in one statement, in one order (by sku), so they never do. And a
// deadlock (or any retryable failure) that does abort a batch leaves nothing of it behind: the
// retry applies it exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/postgres_stores.h"
#include "contract/store_contract.h"
#include "core/projection_sequencer.h"
#include "support/pg_lock_waiters.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;

const std::string kUser = "0190a1b2-0000-7000-8000-0000000000aa";

std::string order_id(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "0190a1b2-0000-7000-8000-%012d", n);
    return buf;
}

// An order of one line of `sku`, which leaves its stock at `stock` (stock_seq `seq`).
Event order_of(int n, const std::string& sku, std::int64_t stock, std::int64_t seq) {
    return contract::order_placed(order_id(n), kUser, {{sku, 1, 100}}, {{sku, stock, seq}});
}

std::unique_ptr<ReadStore> open_store(const std::string& url) {
    static SystemClock clock;  // outlives every store
    auto store = make_postgres_read_store(PostgresReadStoreOptions{url}, clock, projection_rules());
    if (!store) throw std::runtime_error(store.error().message);
    return std::move(*store);
}

using test_support::wait_for_lock_waiters;

// A session holding one products_view row locked until commit().
struct RowHolder {
    RowHolder(const std::string& url, const std::string& sku) : conn(pg::Connection::open(url)) {
        conn.exec_script("BEGIN");
        conn.exec("SELECT 1 FROM products_view WHERE sku = $1 FOR UPDATE", sku);
    }
    void commit() { conn.exec_script("COMMIT"); }
    pg::Connection conn;
};

std::int64_t stock_of(ReadStore& store, const std::string& sku) {
    auto p = store.get_product(sku);
    if (!p || !*p || !(*p)->stock) return -1;
    return *(*p)->stock;
}

TEST(PgProjectionLockOrder, ProjectorsMeetingProductsInOppositeOrdersNeverDeadlock) {
    test_support::PgTestDatabase db;
    auto a = open_store(db.url());
    auto b = open_store(db.url());
    ASSERT_TRUE(a->apply(std::vector<Event>{contract::product_upserted("SKU-X", 1, 100, 1),
                                            contract::product_upserted("SKU-Y", 1, 100, 1)},
                         BusPosition{"products", 2}));

    // Projector A polls partitions p0 (an order of X) and p1 (an order of Y); projector B polls
    // p2 (an order of Y) and p3 (an order of X): X then Y, and Y then X.
    const std::int64_t no_offsets[] = {0};
    auto delivery = [](Event e, const std::string& partition) {
        return Delivery{{std::move(e)}, {}, BusPosition{partition, 1}};
    };
    const Delivery a0 = delivery(order_of(1, "SKU-X", 99, 2), "p0");
    const Delivery a1 = delivery(order_of(2, "SKU-Y", 99, 2), "p1");
    const Delivery b0 = delivery(order_of(3, "SKU-Y", 98, 3), "p2");
    const Delivery b1 = delivery(order_of(4, "SKU-X", 98, 3), "p3");
    const std::vector<DeliveryPart> parts_a{{&a0, no_offsets}, {&a1, no_offsets}};
    const std::vector<DeliveryPart> parts_b{{&b0, no_offsets}, {&b1, no_offsets}};

    // Held rows line them up: A waits for X, B for Y (if it takes Y first); Y is let go first, so
    // B gets Y and then waits for X behind A; X let go, A takes it and wants Y. In event order
    // that is a cycle; in sku order both wait for X first and one simply goes after the other.
    pg::Connection watcher = pg::Connection::open(db.url());
    RowHolder hold_x(db.url(), "SKU-X");
    RowHolder hold_y(db.url(), "SKU-Y");
    Expected<std::vector<ProjectionResult>, StoreError> result_a = std::vector<ProjectionResult>{};
    Expected<std::vector<ProjectionResult>, StoreError> result_b = std::vector<ProjectionResult>{};
    std::thread ta([&] { result_a = a->apply_deliveries(parts_a); });
    ASSERT_TRUE(wait_for_lock_waiters(watcher, 1)) << "A never waited for X";
    std::thread tb([&] { result_b = b->apply_deliveries(parts_b); });
    ASSERT_TRUE(wait_for_lock_waiters(watcher, 2)) << "B never waited";
    hold_y.commit();
    std::this_thread::sleep_for(200ms);  // B takes Y now, if it goes for Y first
    hold_x.commit();
    ta.join();
    tb.join();

    EXPECT_TRUE(result_a) << "projector A: " << result_a.error().message;
    EXPECT_TRUE(result_b) << "projector B: " << result_b.error().message;
    // Both applied, once each: every order is there and each product's stock is the latest.
    for (int n = 1; n <= 4; ++n) {
        auto o = a->get_order(order_id(n));
        EXPECT_TRUE(o && *o) << "order " << n << " missing";
    }
    EXPECT_EQ(stock_of(*a, "SKU-X"), 98);
    EXPECT_EQ(stock_of(*a, "SKU-Y"), 98);
    EXPECT_EQ(watcher.exec("SELECT count(*) FROM products_view").int64(0, 0), 2)
        << "a row the lock step created for a product nobody wrote was left behind";
}

// PostgreSQL answers a deadlock (40P01) by aborting one transaction: the whole batch, with its
// bus position. Injected here at the batch's last statement, after every row was written: the
// error is retryable, nothing of the batch is visible, and its retry applies it exactly once.
TEST(PgProjectionLockOrder, ABatchAbortedByADeadlockIsAppliedExactlyOnceWhenRetried) {
    test_support::PgTestDatabase db;
    auto store = open_store(db.url());
    ASSERT_TRUE(store->apply(std::vector<Event>{contract::product_upserted("SKU-X", 1, 100, 1),
                                                contract::product_upserted("SKU-Y", 1, 100, 1)},
                             BusPosition{"products", 2}));
    pg::Connection admin = pg::Connection::open(db.url());
    admin.exec_script(
        "CREATE SEQUENCE deadlock_once;"
        "CREATE FUNCTION deadlock_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('deadlock_once') = 1 THEN "
        "RAISE EXCEPTION 'deadlock detected (injected)' USING ERRCODE = 'deadlock_detected'; "
        "END IF; RETURN NEW; END $$;"
        "CREATE TRIGGER deadlock_once BEFORE INSERT OR UPDATE ON bus_positions "
        "FOR EACH ROW WHEN (NEW.partition = 'p0') EXECUTE FUNCTION deadlock_once();");

    const std::int64_t offsets[] = {0, 1};
    const Delivery d{
        {order_of(1, "SKU-X", 99, 2), order_of(2, "SKU-Y", 99, 2)}, {}, BusPosition{"p0", 2}};
    auto first = store->apply_delivery(d, offsets);
    ASSERT_FALSE(first) << "the injected deadlock did not fire";
    EXPECT_TRUE(first.error().retryable()) << first.error().message;
    auto o1 = store->get_order(order_id(1));
    ASSERT_TRUE(o1);
    EXPECT_FALSE(*o1) << "the aborted batch left its order behind";
    EXPECT_EQ(stock_of(*store, "SKU-X"), 100);
    EXPECT_EQ(*store->bus_position("p0"), 0);

    auto retried = store->apply_delivery(d, offsets);
    ASSERT_TRUE(retried) << retried.error().message;
    EXPECT_EQ(retried->applied, 2);
    auto again = store->apply_delivery(d, offsets);  // redelivered once more: nothing new
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->applied, 0);
    EXPECT_EQ(again->skipped, 2);
    EXPECT_EQ(stock_of(*store, "SKU-X"), 99);
    EXPECT_EQ(stock_of(*store, "SKU-Y"), 99);
    EXPECT_EQ(admin.exec("SELECT count(*) FROM orders_view").int64(0, 0), 2);
    EXPECT_EQ(admin.exec("SELECT max(version) FROM orders_view").int64(0, 0), 1);
    EXPECT_EQ(*store->bus_position("p0"), 2);
}

}  // namespace
}  // namespace ordinal
