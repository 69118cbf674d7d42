// ReadStore contract: idempotent projection, gap detection, stock ordering by stockSeq, paging.
#include <thread>

#include "store_contract.h"

namespace ordinal::contract {
namespace {

const std::string kUser = "4f0d2a8e-1c7b-4e55-9a31-0b6c2d7e8f90";
const std::string kOtherUser = "9b1e7c3a-55d2-4a0b-8c6f-1d2e3f4a5b6c";
const std::string kOrder = "0190a1b2-c3d4-7e5f-8a9b-000000000001";

Event order_event(const std::string& order_id, std::int64_t version, EventData data,
                  const std::string& at = "2026-11-27T10:00:00.000Z") {
    return make_event(StreamType::Order, order_id, version, std::move(data), at);
}

TEST_P(ReadStoreContract, ProjectsAnOrderAndItsProducts) {
    const std::vector<Event> events = {
        product_upserted("SKU-1", 1, 10, 1, 250),
        order_placed(kOrder, kUser, {{"SKU-1", 2, 250}}, {{"SKU-1", 8, 2}},
                     "2026-11-27T09:00:00.000Z"),
        order_event(kOrder, 2, OrderPaid{"ref", 500}, "2026-11-27T09:05:00.123Z"),
    };
    const ProjectionResult result = apply_ok(events, 3);
    EXPECT_EQ(result.applied, 3u);
    EXPECT_EQ(result.skipped, 0u);
    ASSERT_EQ(result.advanced.size(), 2u);  // one entry per stream, with its final version
    EXPECT_EQ(result.advanced[0],
              std::make_pair(StreamKey{StreamType::Product, "SKU-1"}, std::int64_t{1}));
    EXPECT_EQ(result.advanced[1],
              std::make_pair(StreamKey{StreamType::Order, kOrder}, std::int64_t{2}));

    auto order = store_->get_order(kOrder);
    ASSERT_TRUE(order) << order.error().message;
    ASSERT_TRUE(order->has_value());
    const Order& o = **order;
    EXPECT_EQ(o.id, kOrder);
    EXPECT_EQ(o.user_id, kUser);
    EXPECT_EQ(o.status, OrderStatus::Paid);
    EXPECT_EQ(o.currency, "EUR");
    ASSERT_EQ(o.lines.size(), 1u);
    EXPECT_EQ(o.lines[0].sku, "SKU-1");
    EXPECT_EQ(o.lines[0].qty, 2);
    EXPECT_EQ(o.lines[0].unit_price_minor, 250);
    EXPECT_EQ(o.total_minor, 500);
    EXPECT_EQ(o.version, 2);
    EXPECT_EQ(o.created_at, "2026-11-27T09:00:00.000Z");
    EXPECT_EQ(o.updated_at, "2026-11-27T09:05:00.123Z");

    auto product = store_->get_product("SKU-1");
    ASSERT_TRUE(product);
    ASSERT_TRUE(product->has_value());
    EXPECT_EQ((*product)->name, "Product SKU-1");
    EXPECT_EQ((*product)->currency, "EUR");
    EXPECT_EQ((*product)->price_minor, 250);
    EXPECT_EQ((*product)->stock, 8);
    EXPECT_EQ((*product)->version, 1);

    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Order, kOrder}), 2);
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Product, "SKU-1"}), 1);
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Order, "unknown"}), 0);
    EXPECT_EQ(*store_->bus_position("local"), 3);
    EXPECT_EQ(*store_->bus_position("elsewhere"), 0);

    auto missing = store_->get_order("0190a1b2-c3d4-7e5f-8a9b-00000000ffff");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
}

TEST_P(ReadStoreContract, FollowsTheOrderLifecycleToShippedAndCancelled) {
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000002";
    apply_ok(
        {product_upserted("SKU-1", 1, std::nullopt, 1),
         order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", std::nullopt, 2}}),
         order_event(kOrder, 2, OrderPaid{"ref", 1000}), order_event(kOrder, 3, OrderShipped{}),
         order_placed(other, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", std::nullopt, 3}}),
         order_event(other, 2, OrderCancelled{"no", {{"SKU-1", std::nullopt, 4}}})},
        6);
    EXPECT_EQ((*store_->get_order(kOrder))->status, OrderStatus::Shipped);
    EXPECT_EQ((*store_->get_order(kOrder))->version, 3);
    EXPECT_EQ((*store_->get_order(other))->status, OrderStatus::Cancelled);
    EXPECT_EQ((*store_->get_product("SKU-1"))->stock, std::nullopt);
}

TEST_P(ReadStoreContract, RedeliveryIsSkippedAndChangesNothing) {
    const std::vector<Event> batch = {
        product_upserted("SKU-1", 1, 10, 1),
        order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}}),
        order_event(kOrder, 2, OrderPaid{"ref", 1000}),
    };
    apply_ok(batch, 3);
    const ProjectionResult again = apply_ok(batch, 3);
    EXPECT_EQ(again.applied, 0u);
    EXPECT_EQ(again.skipped, 3u);
    EXPECT_TRUE(again.advanced.empty());

    // A batch overlapping what was applied: only the new tail counts.
    const ProjectionResult overlap = apply_ok(
        {order_event(kOrder, 2, OrderPaid{"ref", 1000}), order_event(kOrder, 3, OrderShipped{})},
        4);
    EXPECT_EQ(overlap.skipped, 1u);
    EXPECT_EQ(overlap.applied, 1u);
    ASSERT_EQ(overlap.advanced.size(), 1u);
    EXPECT_EQ(overlap.advanced[0].second, 3);

    const Order o = **store_->get_order(kOrder);
    EXPECT_EQ(o.status, OrderStatus::Shipped);
    EXPECT_EQ(o.version, 3);
    EXPECT_EQ((*store_->get_product("SKU-1"))->stock, 9);
    EXPECT_EQ(*store_->bus_position("local"), 4);
}

TEST_P(ReadStoreContract, GapFailsTheWholeBatchAndWritesNothing) {
    apply_ok({product_upserted("SKU-0", 1, 1, 1)}, 1);
    const std::vector<Event> batch = {
        product_upserted("SKU-1", 1, 10, 1),
        order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}}),
        order_event(kOrder, 3, OrderShipped{}),  // version 2 never arrived
    };
    auto result = store_->apply(batch, BusPosition{"local", 4});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, StoreError::Kind::Internal);
    EXPECT_FALSE(result.error().retryable());

    EXPECT_FALSE(store_->get_order(kOrder)->has_value());
    EXPECT_FALSE(store_->get_product("SKU-1")->has_value());
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Product, "SKU-1"}), 0);
    EXPECT_EQ(*store_->bus_position("local"), 1);

    // A stream that starts past version 1 is a gap too.
    const std::vector<Event> late_start = {order_event(kOrder, 2, OrderPaid{"ref", 1})};
    EXPECT_FALSE(store_->apply(late_start, BusPosition{"local", 5}));
}

TEST_P(ReadStoreContract, EventOnTheWrongKindOfStreamIsRejected) {
    Event bad = product_upserted("SKU-1", 1, 1, 1);
    bad.stream.type = StreamType::Order;
    auto result = store_->apply(std::vector<Event>{bad}, BusPosition{"local", 1});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, StoreError::Kind::Internal);
}

TEST_P(ReadStoreContract, StockFollowsStockSeqWhateverOrderStreamsArriveIn) {
    const std::string a = "0190a1b2-c3d4-7e5f-8a9b-00000000000a";
    const std::string b = "0190a1b2-c3d4-7e5f-8a9b-00000000000b";
    // Orders a (stock 9, seq 2) and b (stock 8, seq 3) arrive before the product itself (seq 1).
    apply_ok({order_placed(b, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 8, 3}})}, 1, "p1");
    EXPECT_FALSE(store_->get_product("SKU-1")->has_value());  // only a stock placeholder so far
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Product, "SKU-1"}), 0);
    apply_ok({order_placed(a, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}})}, 1, "p2");
    apply_ok({product_upserted("SKU-1", 1, 10, 1)}, 1, "p3");

    auto product = store_->get_product("SKU-1");
    ASSERT_TRUE(product && product->has_value());
    EXPECT_EQ((*product)->stock, 8);  // the figure with the highest stockSeq
    EXPECT_EQ((*product)->version, 1);
    EXPECT_EQ((*product)->name, "Product SKU-1");

    // A restock (seq 4) wins over everything before it; a cancel stamped seq 5 then wins over it.
    apply_ok({product_upserted("SKU-1", 2, 50, 4)}, 2, "p3");
    EXPECT_EQ((*store_->get_product("SKU-1"))->stock, 50);
    apply_ok({order_event(a, 2, OrderCancelled{"no", {{"SKU-1", 51, 5}}})}, 2, "p2");
    EXPECT_EQ((*store_->get_product("SKU-1"))->stock, 51);
    // An upsert whose stockSeq is older than the row's keeps its name/price but not its stock.
    apply_ok({product_upserted("SKU-1", 3, 7, 5, 999)}, 3, "p3");
    product = store_->get_product("SKU-1");
    EXPECT_EQ((*product)->stock, 51);
    EXPECT_EQ((*product)->price_minor, 999);
    EXPECT_EQ((*product)->version, 3);
}

TEST_P(ReadStoreContract, ListsAUsersOrdersNewestFirstInPages) {
    // Created-at ties are broken by order id, descending.
    const std::vector<std::pair<std::string, std::string>> orders = {
        {"0190a1b2-c3d4-7e5f-8a9b-000000000001", "2026-11-27T09:00:00.000Z"},
        {"0190a1b2-c3d4-7e5f-8a9b-000000000002", "2026-11-27T09:00:01.000Z"},
        {"0190a1b2-c3d4-7e5f-8a9b-000000000003", "2026-11-27T09:00:01.000Z"},
        {"0190a1b2-c3d4-7e5f-8a9b-000000000004", "2026-11-27T09:00:02.000Z"},
        {"0190a1b2-c3d4-7e5f-8a9b-000000000005", "2026-11-27T09:00:03.000Z"},
    };
    std::vector<Event> events;
    for (const auto& [id, at] : orders)
        events.push_back(order_placed(id, kUser, {{"SKU-1", 1, 100}}, {}, at));
    events.push_back(order_placed("0190a1b2-c3d4-7e5f-8a9b-0000000000ff", kOtherUser,
                                  {{"SKU-1", 1, 100}}, {}, "2026-11-27T09:00:09.000Z"));
    apply_ok(events, 6);

    std::vector<std::string> seen;
    std::optional<OrderCursor> cursor;
    std::vector<std::size_t> page_sizes;
    for (int guard = 0; guard < 10; ++guard) {
        auto page = store_->list_user_orders(kUser, 2, cursor);
        ASSERT_TRUE(page) << page.error().message;
        page_sizes.push_back(page->orders.size());
        for (const Order& o : page->orders) {
            EXPECT_EQ(o.user_id, kUser);
            seen.push_back(o.id);
        }
        cursor = page->next;
        if (!cursor) break;
    }
    EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
    EXPECT_EQ(seen, (std::vector<std::string>{orders[4].first, orders[3].first, orders[2].first,
                                              orders[1].first, orders[0].first}));

    // Exactly `limit` rows left: no further cursor.
    auto all = store_->list_user_orders(kUser, 5, std::nullopt);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->orders.size(), 5u);
    EXPECT_FALSE(all->next.has_value());

    auto nobody =
        store_->list_user_orders("00000000-0000-4000-8000-000000000000", 20, std::nullopt);
    ASSERT_TRUE(nobody);
    EXPECT_TRUE(nobody->orders.empty());
    EXPECT_FALSE(nobody->next.has_value());
}

TEST_P(ReadStoreContract, StatsCountStreamsAndPositions) {
    apply_ok({product_upserted("SKU-1", 1, 10, 1),
              order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-2", 3, 9}})},
             7, "p0");
    apply_ok({}, 3, "p1");
    auto stats = store_->stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->streams, 2);  // SKU-2 is only a stock placeholder, not a projected stream
    ASSERT_EQ(stats->positions.size(), 2u);
    EXPECT_EQ(stats->positions[0].partition, "p0");
    EXPECT_EQ(stats->positions[0].offset, 7);
    EXPECT_EQ(stats->positions[1].partition, "p1");
    EXPECT_EQ(stats->positions[1].offset, 3);
}

TEST_P(ReadStoreContract, ResetForgetsEverythingAndAllowsARebuild) {
    const std::vector<Event> batch = {
        product_upserted("SKU-1", 1, 10, 1),
        order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}})};
    apply_ok(batch, 2);
    ASSERT_TRUE(store_->reset());
    EXPECT_FALSE(store_->get_order(kOrder)->has_value());
    EXPECT_FALSE(store_->get_product("SKU-1")->has_value());
    EXPECT_EQ(*store_->bus_position("local"), 0);
    auto stats = store_->stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->streams, 0);
    EXPECT_TRUE(stats->positions.empty());

    const ProjectionResult replay = apply_ok(batch, 2);
    EXPECT_EQ(replay.applied, 2u);
    EXPECT_EQ((*store_->get_product("SKU-1"))->stock, 9);
}

TEST_P(ReadStoreContract, ReopeningKeepsTheProjection) {
    apply_ok({product_upserted("SKU-1", 1, 10, 1),
              order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})},
             2);
    reopen();
    ASSERT_TRUE(store_->check_ready());
    EXPECT_TRUE(store_->get_order(kOrder)->has_value());
    EXPECT_EQ(*store_->bus_position("local"), 2);
    EXPECT_EQ(apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})}, 2).skipped, 1u);
}

TEST_P(ReadStoreContract, QueriesRunWhileTheProjectorWrites) {
    constexpr int kOrders = 200;
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
        readers.emplace_back([&] {
            while (!done.load()) {
                if (!store_->list_user_orders(kUser, 10, std::nullopt)) ++failures;
                if (!store_->get_order(kOrder)) ++failures;
                if (!store_->stats()) ++failures;
            }
        });
    }
    for (int i = 0; i < kOrders; ++i) {
        char id[40];
        std::snprintf(id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", i);
        apply_ok({order_placed(id, kUser, {{"SKU-1", 1, 100}}, {{"SKU-1", kOrders - i, i + 1}})},
                 i + 1);
    }
    done = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(failures.load(), 0);
    auto page = store_->list_user_orders(kUser, 100, std::nullopt);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->orders.size(), 100u);
    EXPECT_TRUE(page->next.has_value());
}

TEST_P(ReadStoreContract, IsReady) {
    EXPECT_TRUE(store_->check_ready());
}

}  // namespace
}  // namespace ordinal::contract
