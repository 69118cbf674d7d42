// ReadStore contract: idempotent projection, gap detection, stock ordering by stockSeq, paging;
// deliveries from a bus with gaps and poison, dead letters and their retry.
#include <chrono>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "codec/event_json.h"
#include "core/projection_sequencer.h"
#include "ports/batch_times.h"
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
    const std::vector<StreamKey> keys = {{StreamType::Product, "SKU-1"},
                                         {StreamType::Order, "unknown"},
                                         {StreamType::Order, kOrder},
                                         {StreamType::Product, kOrder}};
    EXPECT_EQ(*store_->stream_versions(keys), (std::vector<std::int64_t>{1, 0, 2, 0}));
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
         order_event(other, 2,
                     OrderCancelled{"no", {{"SKU-1", std::nullopt, 4}}, OrderStatus::Placed})},
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
    apply_ok({order_event(a, 2, OrderCancelled{"no", {{"SKU-1", 51, 5}}, OrderStatus::Placed})}, 2,
             "p2");
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

// ---- deliveries and dead letters ----------------------------------------------------------------

const std::string kStream = "order/" + kOrder;

// A dead letter as the bus hands it over (its payload is whatever came).
DeadLetter bus_dead_letter(std::int64_t offset, const std::string& stream, std::int64_t version,
                           std::string payload, const std::string& partition = "orders-0") {
    DeadLetter d;
    d.position = BusPosition{partition, offset};
    d.stream = stream;
    d.version = version;
    d.event_type = version ? "OrderPaid" : "";
    d.payload = std::move(payload);
    d.reason = "undecodable: from the bus";
    return d;
}

// The dead letter of an event whose payload is readable (it failed to apply, say).
DeadLetter event_dead_letter(std::int64_t offset, const Event& e) {
    return dead_letter_of(e, BusPosition{"orders-0", offset}, encode_event_envelope(e),
                          "failed to apply");
}

TEST_P(ReadStoreContract, DeliveryGapIsSkippedAndALaterCopyFillsIt) {
    EXPECT_EQ(deliver_ok({product_upserted("SKU-1", 1, 10, 1),
                          order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}})},
                         0)
                  .applied,
              2u);
    // Version 2 was lost in a publish that failed; its copy comes later.
    const ProjectionResult gap = deliver_ok({order_event(kOrder, 3, OrderShipped{})}, 2);
    EXPECT_EQ(gap.applied, 0u);
    EXPECT_EQ(gap.skipped, 1u);
    EXPECT_EQ(gap.dead_lettered, 0u);
    EXPECT_TRUE(gap.advanced.empty());
    EXPECT_EQ((*store_->get_order(kOrder))->version, 1);
    EXPECT_EQ(*store_->bus_position("orders-0"), 3);

    const ProjectionResult copy = deliver_ok(
        {order_event(kOrder, 2, OrderPaid{"ref", 1000}), order_event(kOrder, 3, OrderShipped{})},
        3);
    EXPECT_EQ(copy.applied, 2u);
    ASSERT_EQ(copy.advanced.size(), 1u);
    EXPECT_EQ(copy.advanced[0].second, 3);
    EXPECT_EQ((*store_->get_order(kOrder))->status, OrderStatus::Shipped);
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(store_->stats()->dead_letters, 0);
}

TEST_P(ReadStoreContract, DeliveryGapBehindADeadLetterOfItsStreamIsDeadLettered) {
    apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})}, 1);
    const Event shipped = order_event(kOrder, 3, OrderShipped{});
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000002";
    // Offset 5: version 2, poison. Offset 6: version 3, which no later copy will precede.
    const ProjectionResult result =
        deliver_ok({shipped, order_placed(other, kUser, {{"SKU-1", 1, 1000}}, {})}, 6,
                   {bus_dead_letter(5, kStream, 2, std::string("\x00\xff{not json", 12))});
    EXPECT_EQ(result.dead_lettered, 1u);
    EXPECT_EQ(result.applied, 1u) << "other streams go on";
    EXPECT_EQ(result.skipped, 0u);
    EXPECT_EQ((*store_->get_order(kOrder))->version, 1);
    EXPECT_TRUE(store_->get_order(other)->has_value());
    EXPECT_EQ(*store_->bus_position("orders-0"), 9);

    const auto letters = dead_letters();
    ASSERT_EQ(letters.size(), 2u);
    EXPECT_LT(letters[0].id, letters[1].id);
    const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    // As given, the payload byte for byte.
    EXPECT_EQ(letters[0].position.partition, "orders-0");
    EXPECT_EQ(letters[0].position.offset, 5);
    EXPECT_EQ(letters[0].stream, kStream);
    EXPECT_EQ(letters[0].version, 2);
    EXPECT_EQ(letters[0].event_type, "OrderPaid");
    EXPECT_EQ(letters[0].payload, std::string("\x00\xff{not json", 12));
    EXPECT_EQ(letters[0].reason, "undecodable: from the bus");
    EXPECT_TRUE(std::regex_match(letters[0].created_at, rfc3339)) << letters[0].created_at;
    // Made by the store, at the event's own offset, with a payload a retry can decode.
    EXPECT_EQ(letters[1].position.partition, "orders-0");
    EXPECT_EQ(letters[1].position.offset, 6);
    EXPECT_EQ(letters[1].stream, kStream);
    EXPECT_EQ(letters[1].version, 3);
    EXPECT_EQ(letters[1].event_type, "OrderShipped");
    EXPECT_EQ(letters[1].reason, "waiting behind dead-lettered version 2 of " + kStream);
    const auto decoded = decode_event_envelope(letters[1].payload);
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(decoded->event_id, shipped.event_id);
    EXPECT_EQ(decoded->version, 3);
    EXPECT_TRUE(std::regex_match(letters[1].created_at, rfc3339)) << letters[1].created_at;
    EXPECT_EQ(store_->stats()->dead_letters, 2);

    // Still blocked in a later delivery; the stream's next version itself is applied.
    EXPECT_EQ(deliver_ok({order_event(kOrder, 4, OrderShipped{})}, 9).dead_lettered, 1u);
    EXPECT_EQ(dead_letters().back().reason, "waiting behind dead-lettered version 2 of " + kStream);
    EXPECT_EQ(deliver_ok({order_event(kOrder, 2, OrderPaid{"ref", 1000})}, 10).applied, 1u);
    // A dead letter at or below the applied version blocks nothing: version 2's is done with.
    EXPECT_EQ(deliver_ok({order_event(kOrder, 5, OrderShipped{})}, 11).dead_lettered, 1u);
    EXPECT_EQ(dead_letters().back().reason, "waiting behind dead-lettered version 3 of " + kStream);
    EXPECT_EQ(
        deliver_ok({order_event(kOrder, 3, OrderShipped{}), order_event(kOrder, 4, OrderShipped{}),
                    order_event(kOrder, 5, OrderShipped{})},
                   12)
            .applied,
        3u);
    const ProjectionResult past = deliver_ok({order_event(kOrder, 7, OrderShipped{})}, 15);
    EXPECT_EQ(past.skipped, 1u);
    EXPECT_EQ(past.dead_lettered, 0u);
    EXPECT_EQ(dead_letters().size(), 4u);
}

TEST_P(ReadStoreContract, DeliveryIsStoredWhollyOrNotAtAll) {
    deliver_ok({}, 0, {bus_dead_letter(0, kStream, 1, "x")});
    ASSERT_EQ(dead_letters().size(), 1u);
    EXPECT_EQ(*store_->bus_position("orders-0"), 1);

    // Version 1 of an order that cannot be applied (a payment before any placement): the given
    // dead letter and the position go with it.
    auto failed = deliver({order_event(kOrder, 1, OrderPaid{"ref", 1})}, 1,
                          {bus_dead_letter(2, "order/other", 1, "y")});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().kind, StoreError::Kind::Internal);
    EXPECT_EQ(dead_letters().size(), 1u);
    EXPECT_EQ(*store_->bus_position("orders-0"), 1);
    EXPECT_EQ(store_->stats()->dead_letters, 1);

    // Offsets that do not match the events are refused, and nothing is written.
    const Delivery mismatched{{order_placed(kOrder, kUser, {{"SKU-1", 1, 1}}, {})},
                              {bus_dead_letter(3, kStream, 2, "z")},
                              BusPosition{"orders-0", 9}};
    auto refused = store_->apply_delivery(mismatched, {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Internal);
    EXPECT_FALSE(store_->get_order(kOrder)->has_value());
    EXPECT_EQ(dead_letters().size(), 1u);
    EXPECT_EQ(*store_->bus_position("orders-0"), 1);
}

// One poll of a partitioned bus, several partitions, one transaction: each part by the rule of
// apply_delivery, its own position; a part that cannot be applied takes the others with it.
TEST_P(ReadStoreContract, DeliveriesOfSeveralPartitionsAreStoredTogetherWhollyOrNotAtAll) {
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000002";
    const Delivery first{
        {order_placed(kOrder, kUser, {{"SKU-1", 1, 1}}, {})}, {}, BusPosition{"orders-0", 5}};
    const Delivery second{{order_placed(other, kUser, {{"SKU-1", 1, 1}}, {}),
                           order_event(other, 3, OrderShipped{})},  // a gap: skipped
                          {bus_dead_letter(9, "", 0, "?", "orders-1")},
                          BusPosition{"orders-1", 10}};
    const std::vector<std::int64_t> first_at{4}, second_at{7, 8};
    const std::vector<DeliveryPart> parts{{&first, first_at}, {&second, second_at}};
    auto results = store_->apply_deliveries(parts);
    ASSERT_TRUE(results) << results.error().message;
    ASSERT_EQ(results->size(), 2u);
    EXPECT_EQ((*results)[0].applied, 1u);
    EXPECT_EQ((*results)[1].applied, 1u);
    EXPECT_EQ((*results)[1].skipped, 1u);
    EXPECT_EQ(*store_->bus_position("orders-0"), 5);
    EXPECT_EQ(*store_->bus_position("orders-1"), 10);
    EXPECT_TRUE(store_->get_order(other)->has_value());
    EXPECT_EQ(dead_letters().size(), 1u);

    const std::string third = "0190a1b2-c3d4-7e5f-8a9b-000000000003";
    const Delivery fine{
        {order_placed(third, kUser, {{"SKU-1", 1, 1}}, {})}, {}, BusPosition{"orders-0", 6}};
    const Delivery poison{
        {order_event(kOrder + "-x", 1, OrderPaid{"ref", 1})}, {}, BusPosition{"orders-1", 11}};
    const std::vector<std::int64_t> fine_at{5}, poison_at{10};
    const std::vector<DeliveryPart> bad{{&fine, fine_at}, {&poison, poison_at}};
    auto refused = store_->apply_deliveries(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Internal);
    EXPECT_FALSE(store_->get_order(third)->has_value());
    EXPECT_EQ(*store_->bus_position("orders-0"), 5);
    EXPECT_EQ(*store_->bus_position("orders-1"), 10);
}

// Fencing: once another projector has claimed a partition, a delivery carrying the previous owner
// epoch (a zombie finishing its batch) is refused as Fenced and writes nothing — no row, no
// position, no dead letter — alone or with other partitions in one transaction; the new owner's
// deliveries go on, and a delivery that carries no epoch (the in-process bus) is not fenced.
TEST_P(ReadStoreContract, AStaleOwnerEpochsDeliveryWritesNoRowAndNoPosition) {
    const auto zombie_epoch = store_->claim_partition("orders-0");
    ASSERT_TRUE(zombie_epoch) << zombie_epoch.error().message;
    const auto orders1_epoch = store_->claim_partition("orders-1");
    ASSERT_TRUE(orders1_epoch) << orders1_epoch.error().message;
    Delivery first{
        {order_placed(kOrder, kUser, {{"SKU-1", 1, 1}}, {})}, {}, BusPosition{"orders-0", 5}};
    first.owner_epoch = *zombie_epoch;
    const std::vector<std::int64_t> first_at{4};
    ASSERT_TRUE(store_->apply_delivery(first, first_at));
    EXPECT_EQ(*store_->bus_position("orders-0"), 5);

    const auto owner_epoch = store_->claim_partition("orders-0");  // the new owner
    ASSERT_TRUE(owner_epoch) << owner_epoch.error().message;
    EXPECT_GT(*owner_epoch, *zombie_epoch);

    const std::string late = "0190a1b2-c3d4-7e5f-8a9b-000000000004";
    Delivery stale{{order_event(kOrder, 2, OrderPaid{"late", 1}),
                    order_placed(late, kUser, {{"SKU-1", 1, 1}}, {{"SKU-1", 3, 7}})},
                   {bus_dead_letter(7, "", 0, "?")},
                   BusPosition{"orders-0", 9}};
    stale.owner_epoch = *zombie_epoch;
    const std::vector<std::int64_t> stale_at{5, 6};
    auto refused = store_->apply_delivery(stale, stale_at);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Fenced) << refused.error().message;
    EXPECT_FALSE(refused.error().retryable());

    // With a partition it still owns, in one transaction: nothing of either.
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000005";
    Delivery owned{
        {order_placed(other, kUser, {{"SKU-1", 1, 1}}, {})}, {}, BusPosition{"orders-1", 3}};
    owned.owner_epoch = *orders1_epoch;
    const std::vector<std::int64_t> owned_at{2};
    const std::vector<DeliveryPart> parts{{&owned, owned_at}, {&stale, stale_at}};
    auto together = store_->apply_deliveries(parts);
    ASSERT_FALSE(together);
    EXPECT_EQ(together.error().kind, StoreError::Kind::Fenced) << together.error().message;

    const auto order = store_->get_order(kOrder);
    ASSERT_TRUE(order && *order);
    EXPECT_EQ((*order)->version, 1) << "the zombie's row written";
    EXPECT_FALSE(store_->get_order(late)->has_value());
    EXPECT_FALSE(store_->get_order(other)->has_value());
    EXPECT_FALSE(store_->get_product("SKU-1")->has_value());
    EXPECT_EQ(*store_->bus_position("orders-0"), 5) << "the zombie's position written";
    EXPECT_EQ(*store_->bus_position("orders-1"), 0);
    EXPECT_TRUE(dead_letters().empty());

    // The owners' deliveries are stored, alone and together.
    stale.owner_epoch = *owner_epoch;
    ASSERT_TRUE(store_->apply_deliveries(parts));
    EXPECT_EQ((*store_->get_order(kOrder))->version, 2);
    EXPECT_EQ(*store_->bus_position("orders-0"), 9);
    EXPECT_EQ(*store_->bus_position("orders-1"), 3);
    EXPECT_EQ(dead_letters().size(), 1u);

    // Unfenced deliveries (no epoch) and apply() are not refused; a rebuild keeps the owners.
    deliver_ok({}, 10);
    EXPECT_EQ(*store_->bus_position("orders-0"), 10);
    ASSERT_TRUE(store_->reset());
    const auto after_reset = store_->claim_partition("orders-0");
    ASSERT_TRUE(after_reset);
    EXPECT_EQ(*after_reset, *owner_epoch + 1);
}

TEST_P(ReadStoreContract, DeliveryPositionOnlyMovesForward) {
    deliver_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1}}, {})}, 9);
    EXPECT_EQ(*store_->bus_position("orders-0"), 10);
    // An older delivery again (a consumer restarted from an older offset): its content is
    // judged as usual, the position stays.
    const ProjectionResult again = deliver_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1}}, {})},
                                              3, {bus_dead_letter(4, "", 0, "?")});
    EXPECT_EQ(again.skipped, 1u);
    EXPECT_EQ(*store_->bus_position("orders-0"), 10);
    EXPECT_EQ(dead_letters().size(), 1u);
    deliver_ok({}, 12, {}, "orders-1");
    EXPECT_EQ(*store_->bus_position("orders-1"), 12);
    EXPECT_EQ(*store_->bus_position("orders-0"), 10);
}

TEST_P(ReadStoreContract, RetryAppliesEachStreamInVersionOrderAndRemovesTheLetters) {
    apply_ok({product_upserted("SKU-1", 1, 10, 1),
              order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}})},
             2);
    const Event paid = order_event(kOrder, 2, OrderPaid{"ref", 1000});
    const Event shipped = order_event(kOrder, 3, OrderShipped{});
    // Dead-lettered newest first, so ids run against versions; plus a copy of what is applied.
    deliver_ok({}, 0,
               {event_dead_letter(7, shipped), event_dead_letter(6, paid),
                event_dead_letter(5, product_upserted("SKU-1", 1, 10, 1))});
    ASSERT_EQ(dead_letters().size(), 3u);

    const DeadLetterRetry retry = retry_ok();
    EXPECT_EQ(retry.retried, 3);
    EXPECT_EQ(retry.applied, 3);
    EXPECT_EQ(retry.remaining, 0);
    ASSERT_EQ(retry.advanced.size(), 1u);
    EXPECT_EQ(retry.advanced[0],
              std::make_pair(StreamKey{StreamType::Order, kOrder}, std::int64_t{3}));
    const Order o = **store_->get_order(kOrder);
    EXPECT_EQ(o.status, OrderStatus::Shipped);
    EXPECT_EQ(o.version, 3);
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(store_->stats()->dead_letters, 0);

    // The stream is no longer blocked: a gap is skipped again.
    EXPECT_EQ(deliver_ok({order_event(kOrder, 5, OrderShipped{})}, 8).skipped, 1u);
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(retry_ok().retried, 0);
}

// When each projection batch applied each stream (ports/batch_times.h): a row per batch that
// advanced something — applied, delivered (the Kafka profile's path) or retried from the dead
// letters —, found by stream in commit order with the version it left the stream at and the
// store's clock; a redelivery that advanced nothing leaves none; a reset forgets them all.
TEST_P(ReadStoreContract, KeepsWhenEachBatchAppliedEachStream) {
    const StreamKey order{StreamType::Order, kOrder};
    const StreamKey sku{StreamType::Product, "SKU-1"};
    apply_ok({product_upserted("SKU-1", 1, 10, 1),
              order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {{"SKU-1", 9, 2}})},
             2);
    clock_.advance(10);
    apply_ok(
        {order_event(kOrder, 2, OrderPaid{"ref", 1000}), order_event(kOrder, 3, OrderShipped{})},
        4);
    clock_.advance(10);
    apply_ok({order_event(kOrder, 3, OrderShipped{})}, 4);  // a redelivery: no row
    deliver_ok({}, 0, {event_dead_letter(5, product_upserted("SKU-1", 2, 10, 3))});
    ASSERT_EQ(retry_ok().applied, 1);
    clock_.advance(10);
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000002";
    deliver_ok({order_placed(other, kUser, {{"SKU-1", 1, 1000}}, {})}, 6);

    auto times = store_->stream_apply_times(order, kT0 - 1000);
    ASSERT_TRUE(times) << times.error().message;
    ASSERT_EQ(times->size(), 2u);
    EXPECT_EQ((*times)[0].version, 1);
    EXPECT_EQ((*times)[0].applied_ms, kT0);
    EXPECT_EQ((*times)[1].version, 3);
    EXPECT_EQ((*times)[1].applied_ms, kT0 + 10);
    auto product = store_->stream_apply_times(sku, kT0);
    ASSERT_TRUE(product);
    ASSERT_EQ(product->size(), 2u);
    EXPECT_EQ((*product)[0].version, 1);
    EXPECT_EQ((*product)[1].version, 2);  // the retry
    EXPECT_EQ((*product)[1].applied_ms, kT0 + 20);
    auto delivered = store_->stream_apply_times(StreamKey{StreamType::Order, other}, 0);
    ASSERT_TRUE(delivered);
    ASSERT_EQ(delivered->size(), 1u);
    EXPECT_EQ((*delivered)[0].version, 1);
    EXPECT_EQ((*delivered)[0].applied_ms, kT0 + 30);

    EXPECT_EQ(store_->stream_apply_times(order, kT0 + 1)->size(), 1u) << "from the given time on";
    EXPECT_TRUE(store_->stream_apply_times(order, kT0 + 11)->empty()) << "none since then";
    EXPECT_TRUE(store_->stream_apply_times(StreamKey{StreamType::Product, "SKU"}, 0)->empty());
    ASSERT_TRUE(store_->reset());
    EXPECT_TRUE(store_->stream_apply_times(order, 0)->empty());
}

// The batch-time rows go by the store's clock (here the fixture's, moved by hand): a batch
// recorded once a prune is due deletes the rows older than kBatchTimesKeptMs and keeps the
// others; prunes come at most once every kBatchTimesPruneEveryMs.
TEST_P(ReadStoreContract, PrunesBatchTimesOlderThanTheRetentionByItsClock) {
    const auto times_of = [&](const StreamKey& stream) {
        std::vector<std::pair<std::int64_t, std::int64_t>> out;  // version, applied_ms
        auto times = store_->stream_apply_times(stream, 0);
        EXPECT_TRUE(times) << times.error().message;
        if (times)
            for (const StreamApplyTime& t : *times) out.emplace_back(t.version, t.applied_ms);
        return out;
    };
    using Times = std::vector<std::pair<std::int64_t, std::int64_t>>;
    const StreamKey order{StreamType::Order, kOrder};
    const StreamKey sku{StreamType::Product, "SKU-2"};
    apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})}, 1);  // the first prune
    // Exactly the retention later, with a prune due: the first row is not older than kept.
    clock_.advance(kBatchTimesKeptMs);
    apply_ok({order_event(kOrder, 2, OrderPaid{"ref", 1000})}, 2);
    EXPECT_EQ(times_of(order), (Times{{1, kT0}, {2, kT0 + kBatchTimesKeptMs}}));
    // A millisecond later the first row is older than kept, but the last prune was just now.
    clock_.advance(1);
    apply_ok({product_upserted("SKU-2", 1, 10, 1)}, 3);
    EXPECT_EQ(times_of(order).size(), 2u) << "pruned sooner than kBatchTimesPruneEveryMs";
    // A prune due again: the first row goes, the newer ones stay.
    clock_.advance(kBatchTimesPruneEveryMs - 1);
    apply_ok({product_upserted("SKU-2", 2, 10, 2)}, 4);
    const std::int64_t now = kT0 + kBatchTimesKeptMs + kBatchTimesPruneEveryMs;
    EXPECT_EQ(times_of(order), (Times{{2, kT0 + kBatchTimesKeptMs}}));
    EXPECT_EQ(times_of(sku), (Times{{1, kT0 + kBatchTimesKeptMs + 1}, {2, now}}));
    // Reopened (a restart), the store prunes at its first batch: what is older than kept goes.
    reopen();
    clock_.advance(kBatchTimesKeptMs);
    apply_ok({order_event(kOrder, 3, OrderShipped{})}, 5);
    EXPECT_EQ(times_of(order), (Times{{3, now + kBatchTimesKeptMs}}));
    EXPECT_EQ(times_of(sku), (Times{{2, now}}));
}

TEST_P(ReadStoreContract, RetryKeepsWhatItCannotApplyAndGoesOnWithTheRest) {
    const std::string other = "0190a1b2-c3d4-7e5f-8a9b-000000000002";
    const std::string never_placed = "0190a1b2-c3d4-7e5f-8a9b-000000000003";
    apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {}),
              order_placed(other, kUser, {{"SKU-1", 1, 1000}}, {})},
             2);
    deliver_ok({}, 0,
               {bus_dead_letter(1, kStream, 2, "garbage"),
                event_dead_letter(2, order_event(kOrder, 3, OrderShipped{})),
                event_dead_letter(3, order_event(never_placed, 1, OrderPaid{"ref", 1})),
                event_dead_letter(4, order_event(other, 2, OrderPaid{"ref", 1000}))});
    auto ids = dead_letters();
    ASSERT_EQ(ids.size(), 4u);

    // One id: version 3 waits behind version 2, which is not part of this retry.
    DeadLetterRetry one = retry_ok(ids[1].id);
    EXPECT_EQ(one.retried, 1);
    EXPECT_EQ(one.applied, 0);
    EXPECT_EQ(one.remaining, 1);
    EXPECT_EQ(dead_letters()[1].reason, "waiting behind dead-lettered version 2 of " + kStream);
    EXPECT_EQ(retry_ok(ids.back().id + 100).retried, 0) << "no such id";

    const DeadLetterRetry all = retry_ok();
    EXPECT_EQ(all.retried, 4);
    EXPECT_EQ(all.applied, 1);
    EXPECT_EQ(all.remaining, 3);
    EXPECT_EQ((*store_->get_order(other))->status, OrderStatus::Paid) << "the rest goes on";
    EXPECT_EQ((*store_->get_order(kOrder))->version, 1);
    EXPECT_FALSE(store_->get_order(never_placed)->has_value()) << "rolled back";

    const auto left = dead_letters();
    ASSERT_EQ(left.size(), 3u);
    EXPECT_EQ(left[0].id, ids[0].id);
    EXPECT_EQ(left[0].payload, "garbage");
    EXPECT_EQ(left[0].reason.rfind("undecodable: ", 0), 0u) << left[0].reason;
    EXPECT_EQ(left[1].reason, "waiting behind dead-lettered version 2 of " + kStream);
    EXPECT_NE(left[2].reason.find("no order row"), std::string::npos) << left[2].reason;
    EXPECT_EQ(store_->stats()->dead_letters, 3);
}

TEST_P(ReadStoreContract, RetryKeepsAGapItIsTheOnlyCopyOf) {
    apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})}, 1);
    deliver_ok({}, 0, {event_dead_letter(4, order_event(kOrder, 3, OrderShipped{}))});
    const DeadLetterRetry retry = retry_ok();
    EXPECT_EQ(retry.remaining, 1);
    const auto left = dead_letters();
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].reason, "waiting for version 2 of " + kStream);
}

TEST_P(ReadStoreContract, ResetClearsTheDeadLetters) {
    deliver_ok({}, 0, {bus_dead_letter(0, kStream, 2, "x"), bus_dead_letter(1, "", 0, "y")});
    ASSERT_EQ(store_->stats()->dead_letters, 2);
    ASSERT_TRUE(store_->reset());
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(store_->stats()->dead_letters, 0);
}

TEST_P(ReadStoreContract, DeadLettersAreListedOldestFirstUpToTheLimit) {
    std::vector<DeadLetter> dead;
    for (int i = 0; i < 5; ++i) dead.push_back(bus_dead_letter(i, "", 0, std::to_string(i)));
    // Text that is not UTF-8 is stored too (as the store can keep it).
    dead.push_back(bus_dead_letter(5, std::string("order/\xff\x00x", 9), 0, "z"));
    deliver_ok({}, 0, dead);
    auto two = store_->list_dead_letters(DeadLetterQuery{2, {}, {}, {}, {}});
    ASSERT_TRUE(two) << two.error().message;
    ASSERT_EQ(two->size(), 2u);
    EXPECT_EQ((*two)[0].payload, "0");
    EXPECT_EQ((*two)[1].payload, "1");
    EXPECT_EQ(dead_letters().size(), 6u);
}

TEST_P(ReadStoreContract, DeadLettersAreSearchedByTypeReasonAndTime) {
    const Event paid = order_event(kOrder, 2, OrderPaid{"ref", 1000});
    DeadLetter a = event_dead_letter(1, paid);
    a.reason = "failed to apply: no order row";
    DeadLetter b = bus_dead_letter(2, "", 0, "garbage");
    b.reason = "undecodable: not JSON";
    deliver_ok({}, 0, {a, b});
    auto search = [&](DeadLetterQuery q) {
        q.limit = 100;
        auto r = store_->list_dead_letters(q);
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::vector<DeadLetter>{};
    };
    EXPECT_EQ(search({}).size(), 2u);
    const auto by_type = search({0, "OrderPaid", {}, {}, {}});
    ASSERT_EQ(by_type.size(), 1u);
    EXPECT_EQ(by_type[0].stream, kStream);
    const auto by_reason = search({0, {}, "not JSON", {}, {}});
    ASSERT_EQ(by_reason.size(), 1u);
    EXPECT_EQ(by_reason[0].payload, "garbage");
    EXPECT_TRUE(search({0, "OrderPaid", "not JSON", {}, {}}).empty()) << "every condition holds";
    EXPECT_TRUE(search({0, {}, "NOT json", {}, {}}).empty()) << "case-sensitive";
    EXPECT_TRUE(search({0, {}, "%", {}, {}}).empty()) << "no LIKE patterns";
    const std::string at = by_type[0].created_at;
    EXPECT_EQ(search({0, {}, {}, at, {}}).size(), 2u) << "since is inclusive";
    EXPECT_TRUE(search({0, {}, {}, {}, at}).empty()) << "until is exclusive";
    EXPECT_TRUE(search({0, {}, {}, "2999-01-01T00:00:00.000Z", {}}).empty());
    EXPECT_EQ(search({0, {}, {}, "2020-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z"}).size(),
              2u);
}

TEST_P(ReadStoreContract, ADiscardedDeadLetterIsHiddenButStillHoldsItsStream) {
    apply_ok({order_placed(kOrder, kUser, {{"SKU-1", 1, 1000}}, {})}, 1);
    const Event paid = order_event(kOrder, 2, OrderPaid{"ref", 1000});
    deliver_ok({}, 0, {event_dead_letter(4, paid)});
    const auto parked = dead_letters();
    ASSERT_EQ(parked.size(), 1u);
    const std::int64_t id = parked[0].id;

    EXPECT_FALSE(*store_->discard_dead_letter(id + 1000, "no such"));
    ASSERT_TRUE(*store_->discard_dead_letter(id, "paid by hand"));
    EXPECT_TRUE(*store_->discard_dead_letter(id, "again")) << "discarding twice is a no-op";
    EXPECT_TRUE(dead_letters().empty());
    EXPECT_EQ(*store_->dead_letter_count(), 0);
    EXPECT_EQ(store_->stats()->dead_letters, 0);
    EXPECT_EQ(retry_ok().retried, 0) << "a retry of all leaves it";
    EXPECT_EQ(retry_ok(id).retried, 0) << "a retry of it finds nothing";
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Order, kOrder}), 1);

    // Version 3 arrives: its stream is still held, so it is parked behind the discarded one.
    const ProjectionResult shipped =
        deliver_ok({order_event(kOrder, 3, OrderShipped{})}, 5, {}, "orders-0");
    EXPECT_EQ(shipped.dead_lettered, 1u);
    EXPECT_EQ(shipped.applied, 0u);
    EXPECT_EQ(dead_letters().size(), 1u);
    EXPECT_EQ(*store_->stream_version(StreamKey{StreamType::Order, kOrder}), 1);

    // A rebuild (reset) clears the tombstone with the rest.
    ASSERT_TRUE(store_->reset());
    EXPECT_TRUE(dead_letters().empty());
}

TEST_P(ReadStoreContract, AFinishedRequestLeavesOneAuditEntry) {
    ASSERT_TRUE(store_->heartbeat(ProcessRecord{"worker", "projector", "test", 1000, 0, 0, "{}"}));
    const auto asked = store_->submit_admin_request("discard_dead_letter", 7, "a test", "api-1");
    ASSERT_TRUE(asked) << asked.error().message;
    EXPECT_EQ(asked->first.reason, "a test");
    auto claimed = store_->claim_admin_request("worker", 60000);
    ASSERT_TRUE(claimed && *claimed);
    EXPECT_EQ((*claimed)->reason, "a test");
    AdminRequest outcome = **claimed;
    outcome.state = "failed";
    outcome.error_code = "not_found";
    outcome.error = "no such dead letter";
    ASSERT_TRUE(*store_->finish_admin_request(outcome));
    EXPECT_FALSE(*store_->finish_admin_request(outcome));
    ASSERT_TRUE(store_->record_audit(AuditEntry{
        0, 0, "product_upsert", "product/SKU-1", "", "done", R"({"version":1})", "api-1", "", {}}));
    const auto log = store_->list_audit(10);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_EQ(log->size(), 2u) << "one entry per finished request, whoever tried to finish it";
    const AuditEntry& put = (*log)[0];
    EXPECT_EQ(put.action, "product_upsert");
    EXPECT_EQ(put.result, R"({"version":1})");
    EXPECT_FALSE(put.request);
    const AuditEntry& e = (*log)[1];
    EXPECT_GT(e.id, 0);
    EXPECT_GT(e.at_ms, 0);
    EXPECT_LT(e.id, put.id);
    EXPECT_EQ(e.action, "discard_dead_letter");
    EXPECT_EQ(e.target, "dead-letter/7");
    EXPECT_EQ(e.reason, "a test");
    EXPECT_EQ(e.outcome, "failed");
    EXPECT_EQ(e.result, "no such dead letter");
    EXPECT_EQ(e.process, "worker");
    EXPECT_EQ(e.requested_by, "api-1");
    EXPECT_EQ(e.request, std::optional<std::int64_t>(asked->first.id));
    EXPECT_EQ(store_->list_audit(1)->size(), 1u);
}

TEST_P(ReadStoreContract, IsReady) {
    EXPECT_TRUE(store_->check_ready());
}

// ---- admin requests and the process registry -------------------------------------------------

ProcessRecord process(const std::string& id, const std::string& roles = "projector") {
    return ProcessRecord{id, roles, "test", 1000, 0, 0, R"({"listen":""})"};
}

TEST_P(ReadStoreContract, AdminRequestsAreClaimedOnceAndOneRebuildRunsAtATime) {
    auto rebuild = store_->submit_admin_request("rebuild", std::nullopt, "", "api-1");
    ASSERT_TRUE(rebuild) << rebuild.error().message;
    EXPECT_TRUE(rebuild->second);
    EXPECT_EQ(rebuild->first.state, "queued");
    EXPECT_EQ(rebuild->first.requested_by, "api-1");
    EXPECT_GT(rebuild->first.requested_ms, 0);
    auto again = store_->submit_admin_request("rebuild", std::nullopt, "", "api-2");
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->second) << "a queued rebuild answers the second";
    EXPECT_EQ(again->first.id, rebuild->first.id);
    auto retry = store_->submit_admin_request("retry_dead_letters", 7, "", "api-2");
    ASSERT_TRUE(retry);
    EXPECT_TRUE(retry->second);
    EXPECT_NE(retry->first.id, rebuild->first.id);
    EXPECT_EQ(retry->first.target, std::optional<std::int64_t>(7));

    // Eight live projectors claim at once: each request goes to exactly one of them.
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(store_->heartbeat(process("p" + std::to_string(i))));
    std::mutex mu;
    std::map<std::int64_t, std::vector<std::string>> claims;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            const std::string me = "p" + std::to_string(i);
            // As a worker does: one request at a time (its own running one it would claim again).
            for (int n = 0; n < 5; ++n) {
                auto c = store_->claim_admin_request(me, 60000);
                ASSERT_TRUE(c) << c.error().message;
                if (!*c) continue;
                std::lock_guard lock(mu);
                claims[(*c)->id].push_back(me);
                EXPECT_EQ((*c)->state, "running");
                EXPECT_EQ((*c)->owner, me);
                EXPECT_EQ((*c)->attempts, 1);
                break;
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(claims.size(), 2u);
    EXPECT_EQ(claims[rebuild->first.id].size(), 1u);
    EXPECT_EQ(claims[retry->first.id].size(), 1u);
    const std::string owner = claims[rebuild->first.id].front();

    // A running rebuild still answers a new rebuild request.
    EXPECT_EQ(store_->submit_admin_request("rebuild", std::nullopt, "", "api-1")->first.id,
              rebuild->first.id);
    AdminRequest outcome = rebuild->first;
    outcome.owner = owner == "p0" ? "p1" : "p0";
    outcome.state = "done";
    outcome.result = R"({"status":"rebuilt"})";
    EXPECT_FALSE(*store_->finish_admin_request(outcome)) << "only its owner records the outcome";
    EXPECT_FALSE(*store_->report_admin_progress(outcome.id, outcome.owner, "{}"));
    EXPECT_TRUE(*store_->report_admin_progress(outcome.id, owner, R"({"eventsReplayed":3})"));
    EXPECT_EQ((*store_->get_admin_request(outcome.id))->progress, R"({"eventsReplayed":3})");
    outcome.owner = owner;
    EXPECT_TRUE(*store_->finish_admin_request(outcome));
    EXPECT_FALSE(*store_->finish_admin_request(outcome)) << "finished once";
    const auto done = store_->get_admin_request(outcome.id);
    ASSERT_TRUE(done && *done);
    EXPECT_EQ((*done)->state, "done");
    EXPECT_EQ((*done)->result, R"({"status":"rebuilt"})");
    EXPECT_GE((*done)->finished_ms, (*done)->started_ms);
    EXPECT_GE((*done)->started_ms, (*done)->requested_ms);
    EXPECT_FALSE(*store_->get_admin_request(outcome.id + 100));

    // Once it is done, a rebuild request is a new one.
    auto next = store_->submit_admin_request("rebuild", std::nullopt, "", "api-1");
    ASSERT_TRUE(next);
    EXPECT_TRUE(next->second);
    EXPECT_NE(next->first.id, rebuild->first.id);
}

TEST_P(ReadStoreContract, ARequestWhoseOwnerStoppedHeartbeatingIsTakenOver) {
    ASSERT_TRUE(store_->heartbeat(process("dying")));
    ASSERT_TRUE(store_->heartbeat(process("heir")));
    const auto id = store_->submit_admin_request("rebuild", std::nullopt, "", "api")->first.id;
    auto first = store_->claim_admin_request("dying", 60000);
    ASSERT_TRUE(first && *first);
    EXPECT_FALSE(*store_->claim_admin_request("heir", 60000)) << "its owner is live";
    // Its owner claims again what it holds: it runs one request at a time, so an outcome it
    // could not record is run again, by it.
    auto mine = store_->claim_admin_request("dying", 60000);
    ASSERT_TRUE(mine && *mine);
    EXPECT_EQ((*mine)->attempts, 2);

    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(store_->heartbeat(process("heir")));
    auto taken = store_->claim_admin_request("heir", 20);
    ASSERT_TRUE(taken && *taken) << "the owner's heartbeat is older than 20 ms";
    EXPECT_EQ((*taken)->id, id);
    EXPECT_EQ((*taken)->owner, "heir");
    EXPECT_EQ((*taken)->attempts, 3);
    AdminRequest late = **first;
    late.state = "done";
    EXPECT_FALSE(*store_->finish_admin_request(late)) << "the old owner cannot overwrite";
    late.owner = "heir";
    EXPECT_TRUE(*store_->finish_admin_request(late));
}

TEST_P(ReadStoreContract, ProcessesAreRegisteredWithTheirLastHeartbeat) {
    ProcessRecord api = process("api-1", "api");
    api.detail = R"({"listen":"127.0.0.1:1"})";
    ASSERT_TRUE(store_->heartbeat(api));
    ASSERT_TRUE(store_->heartbeat(process("worker", "relay,projector")));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    api.detail = R"({"listen":"127.0.0.1:2"})";
    ASSERT_TRUE(store_->heartbeat(api));
    auto listed = store_->list_processes();
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 2u);
    std::map<std::string, ProcessRecord> by_id;
    for (const auto& p : *listed) by_id[p.id] = p;
    EXPECT_EQ(by_id["api-1"].roles, "api");
    EXPECT_EQ(by_id["api-1"].version, "test");
    EXPECT_EQ(by_id["api-1"].started_ms, 1000);
    EXPECT_EQ(by_id["api-1"].detail, R"({"listen":"127.0.0.1:2"})") << "the last heartbeat's";
    EXPECT_EQ(by_id["worker"].roles, "relay,projector");
    EXPECT_GE(by_id["worker"].age_ms, 25) << "not heard from since";
    EXPECT_LT(by_id["api-1"].age_ms, by_id["worker"].age_ms);
    EXPECT_GT(by_id["api-1"].last_seen_ms, by_id["worker"].last_seen_ms);
}

}  // namespace
}  // namespace ordinal::contract
