// Projector::consume_delivery: a delivery is applied whole; one that fails for good is taken apart
// so that only the message that fails is dead-lettered; a retryable failure goes back to the bus.
#include "core/projector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>

#include "support/fake_stores.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;

// A read store whose deliveries are all or nothing, like the real ones; events named in `poison`
// fail with Internal, those in `unavailable` with Unavailable.
class ScriptedReadStore final : public test_support::EmptyReadStore {
  public:
    struct Call {
        std::vector<std::string> events;  // event ids
        std::vector<std::int64_t> offsets;
        std::vector<std::int64_t> dead;  // offsets of the dead letters
        std::int64_t position = 0;
        bool ok = false;
    };

    Expected<ProjectionResult, StoreError> apply_delivery(
        const Delivery& delivery, std::span<const std::int64_t> offsets) override {
        Call call{{}, {offsets.begin(), offsets.end()}, {}, delivery.position.offset, false};
        for (const Event& e : delivery.events) call.events.push_back(e.event_id);
        for (const DeadLetter& d : delivery.dead) call.dead.push_back(d.position.offset);
        std::optional<StoreError> error = fence(delivery);
        for (const Event& e : delivery.events) {  // the first failure ends the transaction
            if (error) break;
            if (poison.count(e.event_id))
                error = StoreError{StoreError::Kind::Internal, "cannot apply " + e.event_id};
            if (unavailable.count(e.event_id))
                error = StoreError{StoreError::Kind::Unavailable, "store down"};
        }
        if (!delivery.dead.empty() && refuse_dead_letters)
            error = StoreError{StoreError::Kind::Internal, "dead letters refused"};
        calls.push_back(call);
        if (error) return unexpected(*error);
        calls.back().ok = true;
        ProjectionResult result;
        for (const Event& e : delivery.events) {
            applied.push_back(e.event_id);
            result.advanced.emplace_back(e.stream, e.version);
            ++result.applied;
        }
        dead.insert(dead.end(), delivery.dead.begin(), delivery.dead.end());
        position = std::max(position, delivery.position.offset);
        return result;
    }

    // All or nothing across the parts, like the real stores' one transaction.
    Expected<std::vector<ProjectionResult>, StoreError> apply_deliveries(
        std::span<const DeliveryPart> parts) override {
        ++multi_calls;
        for (const DeliveryPart& part : parts) {
            if (auto fenced = fence(*part.delivery)) return unexpected(*fenced);
            for (const Event& e : part.delivery->events) {
                if (poison.count(e.event_id))
                    return unexpected(StoreError{StoreError::Kind::Internal, "cannot apply"});
                if (unavailable.count(e.event_id))
                    return unexpected(StoreError{StoreError::Kind::Unavailable, "store down"});
            }
        }
        std::vector<ProjectionResult> out;
        for (const DeliveryPart& part : parts)
            out.push_back(*apply_delivery(*part.delivery, part.offsets));
        return out;
    }

    // Fenced unless the delivery's owner epoch is its partition's here (none: not fenced).
    std::optional<StoreError> fence(const Delivery& d) const {
        const auto it = epochs.find(d.position.partition);
        if (it == epochs.end() || it->second == d.owner_epoch) return std::nullopt;
        return StoreError{StoreError::Kind::Fenced, "epoch " + std::to_string(it->second)};
    }

    std::map<std::string, std::int64_t> epochs;
    std::set<std::string> poison;
    std::set<std::string> unavailable;
    int multi_calls = 0;
    bool refuse_dead_letters = false;
    std::vector<Call> calls;
    std::vector<std::string> applied;
    std::vector<DeadLetter> dead;
    std::int64_t position = 0;
};

Event event(const std::string& order, std::int64_t version) {
    Event e;
    e.event_id = order + "@" + std::to_string(version);
    e.stream = StreamKey{StreamType::Order, order};
    e.version = version;
    e.data = OrderShipped{};
    return e;
}

DeadLetter from_bus(std::int64_t offset) {
    DeadLetter d;
    d.position = BusPosition{"orders-3", offset};
    d.payload = "not an envelope";
    d.reason = "undecodable";
    return d;
}

class ProjectorDelivery : public ::testing::Test {
  protected:
    Expected<void, StoreError> consume(const Delivery& delivery,
                                       std::vector<std::int64_t> offsets) {
        return projector.consume_delivery(delivery, offsets);
    }

    std::uint64_t dead_letters(const char* reason) {
        return metrics.counter("ordinal_projection_dead_letters_total", "", {{"reason", reason}})
            .value();
    }
    std::uint64_t counter(const char* name) { return metrics.counter(name, "").value(); }

    ScriptedReadStore store;
    MetricsRegistry metrics;
    ConsistencyGate gate{store, 0ms};
    Projector projector{store, &gate, metrics,
                        [](const Event& e) { return "envelope of " + e.event_id; }};
};

TEST_F(ProjectorDelivery, AppliesAWholeDeliveryInOneCall) {
    const Delivery d{{event("a", 1), event("b", 1)}, {from_bus(12)}, BusPosition{"orders-3", 13}};
    // A query waiting for b@1 is let through once the delivery is applied.
    std::promise<GateResult> reached;
    gate.wait({{StreamKey{StreamType::Order, "b"}, 1}}, 5000ms,
              [&](GateResult r) { reached.set_value(r); });
    ASSERT_TRUE(consume(d, {10, 11}));
    ASSERT_EQ(store.calls.size(), 1u);
    EXPECT_EQ(store.calls[0].offsets, (std::vector<std::int64_t>{10, 11}));
    EXPECT_EQ(store.calls[0].position, 13);
    EXPECT_EQ(counter("ordinal_projection_events_applied_total"), 2u);
    EXPECT_EQ(dead_letters("bus"), 1u);
    EXPECT_EQ(dead_letters("failed"), 0u);
    auto f = reached.get_future();
    ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
}

TEST_F(ProjectorDelivery, TakesAFailingDeliveryApartAndDeadLettersOnlyWhatFails) {
    store.poison = {"b@1"};
    // In offset order: bus dead letter 9, a@1 10, b@1 11 (poison), c@1 12; then 13 was filtered.
    const Delivery d{
        {event("a", 1), event("b", 1), event("c", 1)}, {from_bus(9)}, BusPosition{"orders-3", 14}};
    ASSERT_TRUE(consume(d, {10, 11, 12}));

    EXPECT_EQ(store.applied, (std::vector<std::string>{"a@1", "c@1"}));
    ASSERT_EQ(store.dead.size(), 2u);
    EXPECT_EQ(store.dead[0].position.offset, 9);
    EXPECT_EQ(store.dead[0].reason, "undecodable");
    const DeadLetter& poison = store.dead[1];
    EXPECT_EQ(poison.position.partition, "orders-3");
    EXPECT_EQ(poison.position.offset, 11);
    EXPECT_EQ(poison.stream, "order/b");
    EXPECT_EQ(poison.version, 1);
    EXPECT_EQ(poison.event_type, "OrderShipped");
    EXPECT_EQ(poison.payload, "envelope of b@1");
    EXPECT_EQ(poison.reason, "cannot apply b@1");
    EXPECT_EQ(store.position, 14);

    // The whole delivery, then one message at a time, each moving the position past itself.
    std::vector<std::int64_t> positions;
    for (const auto& c : store.calls) {
        if (c.ok) positions.push_back(c.position);
    }
    EXPECT_EQ(positions, (std::vector<std::int64_t>{10, 11, 12, 13, 14}));
    EXPECT_EQ(store.calls[0].events.size(), 3u);
    EXPECT_FALSE(store.calls[0].ok);
    EXPECT_EQ(dead_letters("failed"), 1u);
    EXPECT_EQ(dead_letters("bus"), 1u);
    EXPECT_EQ(counter("ordinal_projection_events_applied_total"), 2u);
    EXPECT_EQ(counter("ordinal_projection_failures_total"), 0u);
}

// A poll of several partitions is applied in one call (one transaction); if it fails for good,
// each partition is applied alone, the poison one taken apart as above.
TEST_F(ProjectorDelivery, AppliesSeveralPartitionsTogetherAndAloneWhenOneHasPoison) {
    const Delivery d3{{event("a", 1)}, {}, BusPosition{"orders-3", 11}};
    const Delivery d4{{event("b", 1)}, {}, BusPosition{"orders-4", 21}};
    const std::vector<std::int64_t> at3{10}, at4{20};
    ASSERT_TRUE(projector.consume_deliveries(std::vector<DeliveryPart>{{&d3, at3}, {&d4, at4}}));
    EXPECT_EQ(store.multi_calls, 1);
    EXPECT_EQ(store.applied, (std::vector<std::string>{"a@1", "b@1"}));
    EXPECT_EQ(counter("ordinal_projection_events_applied_total"), 2u);

    store.poison = {"d@1"};
    const Delivery e3{{event("c", 1)}, {}, BusPosition{"orders-3", 12}};
    const Delivery e4{{event("d", 1), event("e", 1)}, {}, BusPosition{"orders-4", 23}};
    const std::vector<std::int64_t> at3b{11}, at4b{21, 22};
    ASSERT_TRUE(projector.consume_deliveries(std::vector<DeliveryPart>{{&e3, at3b}, {&e4, at4b}}));
    EXPECT_EQ(store.multi_calls, 2);
    EXPECT_EQ(store.applied, (std::vector<std::string>{"a@1", "b@1", "c@1", "e@1"}));
    ASSERT_EQ(store.dead.size(), 1u);
    EXPECT_EQ(store.dead[0].reason, "cannot apply d@1");
    EXPECT_EQ(dead_letters("failed"), 1u);

    store.poison.clear();
    store.unavailable = {"f@1"};
    const Delivery f3{{event("f", 1)}, {}, BusPosition{"orders-3", 13}};
    const std::vector<std::int64_t> at3c{12};
    const auto down =
        projector.consume_deliveries(std::vector<DeliveryPart>{{&f3, at3c}, {&d4, at4}});
    ASSERT_FALSE(down);
    EXPECT_TRUE(down.error().retryable());
    EXPECT_EQ(store.applied.size(), 4u) << "nothing of a poll the store could not take";
}

// A zombie's late batch: the store refuses a partition another projector claimed since. It is
// dropped (nothing of it stored, no failure to read again), counted and logged once per
// partition and epoch; the other partitions of the poll are stored without it.
TEST_F(ProjectorDelivery, AFencedPartitionIsDroppedCountedLoggedOnceAndTheRestStored) {
    std::vector<std::string> warnings;
    Projector fenced_projector{store, &gate, metrics, [](const Event& e) { return e.event_id; },
                               [&](const std::string& line) { warnings.push_back(line); }};
    store.epochs = {{"orders-3", 2}, {"orders-4", 1}};
    Delivery d3{{event("a", 1)}, {}, BusPosition{"orders-3", 11}};
    d3.owner_epoch = 1;  // claimed since by another projector (epoch 2)
    Delivery d4{{event("b", 1)}, {}, BusPosition{"orders-4", 21}};
    d4.owner_epoch = 1;
    const std::vector<std::int64_t> at3{10}, at4{20};
    ASSERT_TRUE(
        fenced_projector.consume_deliveries(std::vector<DeliveryPart>{{&d3, at3}, {&d4, at4}}));
    EXPECT_EQ(store.applied, (std::vector<std::string>{"b@1"}));
    EXPECT_EQ(store.position, 21) << "orders-4 stored";
    EXPECT_EQ(counter("ordinal_projection_fenced_batches_total"), 1u);
    EXPECT_EQ(counter("ordinal_projection_failures_total"), 0u);

    // The next batch of the lost partition, alone, and one whose message would be taken apart.
    store.poison = {"c@1"};
    Delivery again{{event("c", 1), event("d", 1)}, {}, BusPosition{"orders-3", 13}};
    again.owner_epoch = 1;
    ASSERT_TRUE(fenced_projector.consume_delivery(again, std::vector<std::int64_t>{11, 12}));
    EXPECT_EQ(store.applied, (std::vector<std::string>{"b@1"}));
    EXPECT_TRUE(store.dead.empty()) << "a fenced delivery is not taken apart";
    EXPECT_EQ(counter("ordinal_projection_fenced_batches_total"), 2u);
    ASSERT_EQ(warnings.size(), 1u) << "logged once per partition and epoch";
    EXPECT_NE(warnings[0].find("orders-3"), std::string::npos) << warnings[0];

    // Its new owner's deliveries (the current epoch) are stored.
    store.poison.clear();
    again.owner_epoch = 2;
    ASSERT_TRUE(fenced_projector.consume_delivery(again, std::vector<std::int64_t>{11, 12}));
    EXPECT_EQ(store.applied, (std::vector<std::string>{"b@1", "c@1", "d@1"}));
}

TEST_F(ProjectorDelivery, ARetryableFailureGoesBackToTheBus) {
    store.unavailable = {"b@1"};
    const Delivery d{{event("a", 1), event("b", 1)}, {}, BusPosition{"orders-3", 12}};
    auto result = consume(d, {10, 11});
    ASSERT_FALSE(result);
    EXPECT_TRUE(result.error().retryable());
    EXPECT_EQ(store.calls.size(), 1u) << "not taken apart";
    EXPECT_TRUE(store.applied.empty());
    EXPECT_EQ(counter("ordinal_projection_failures_total"), 1u);
}

// Where the lag goes: an event's age is taken when the bus hands it over, before the read-store
// transaction, and again once that commits.
TEST_F(ProjectorDelivery, AnEventsAgeIsTakenOnReceiptAndAgainOnCommit) {
    const auto ages = [&](const char* name) {
        return metrics.histogram(name, "", {}, lag_buckets()).count();
    };
    Event a = event("a", 1);
    Event b = event("b", 1);
    a.occurred_at = b.occurred_at = "2026-01-01T00:00:00.000Z";
    store.unavailable = {"b@1"};
    const Delivery d{{a, b}, {}, BusPosition{"orders-3", 12}};
    ASSERT_FALSE(consume(d, {10, 11}));
    EXPECT_EQ(ages("ordinal_projection_receive_age_seconds"), 2u);
    EXPECT_EQ(ages("ordinal_projection_lag_seconds"), 0u) << "nothing committed";
    store.unavailable.clear();
    ASSERT_TRUE(consume(d, {10, 11}));
    EXPECT_EQ(ages("ordinal_projection_receive_age_seconds"), 4u);
    EXPECT_EQ(ages("ordinal_projection_lag_seconds"), 2u);
}

TEST_F(ProjectorDelivery, ARetryableFailureWhileTakingApartKeepsWhatWasDone) {
    store.poison = {"a@1"};
    store.unavailable = {"c@1"};
    const Delivery d{
        {event("a", 1), event("b", 1), event("c", 1)}, {}, BusPosition{"orders-3", 13}};
    auto result = consume(d, {10, 11, 12});
    ASSERT_FALSE(result);
    EXPECT_TRUE(result.error().retryable());
    EXPECT_EQ(store.applied, (std::vector<std::string>{"b@1"}));
    ASSERT_EQ(store.dead.size(), 1u);
    EXPECT_EQ(store.dead[0].stream, "order/a");
    EXPECT_EQ(store.position, 12) << "the bus delivers again from c@1";
}

TEST_F(ProjectorDelivery, ADeadLetterTheStoreRefusesFailsTheDelivery) {
    store.poison = {"a@1"};
    store.refuse_dead_letters = true;
    const Delivery d{{event("a", 1)}, {}, BusPosition{"orders-3", 11}};
    auto result = consume(d, {10});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, StoreError::Kind::Internal);
    EXPECT_EQ(store.position, 0);
    EXPECT_EQ(dead_letters("failed"), 0u);
}

TEST_F(ProjectorDelivery, OffsetsThatDoNotMatchTheEventsAreRefused) {
    const Delivery d{{event("a", 1), event("b", 1)}, {}, BusPosition{"orders-3", 12}};
    store.poison = {"a@1"};  // would be taken apart, were the offsets usable
    auto result = consume(d, {10});
    ASSERT_FALSE(result);
    EXPECT_EQ(store.calls.size(), 1u);
    EXPECT_TRUE(store.dead.empty());
}

}  // namespace
}  // namespace ordinal

namespace ordinal {
namespace {

// The projector's apply line: one per event stored, with the trace context it came with, also
// when the delivery had to be taken apart (the poisoned event is parked, not logged as applied).
TEST_F(ProjectorDelivery, LogsEachAppliedEventWithItsTraceIdAndOrderId) {
    std::vector<LogRecord> lines;
    Projector logging{store,   &gate,
                      metrics, [](const Event& e) { return e.event_id; },
                      {},      [&](const LogRecord& r) { lines.push_back(r); }};
    const std::string ta = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const std::string tc = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    Delivery whole{{event("a", 1), event("b", 1)}, {}, BusPosition{"orders-3", 12}};
    whole.traces = {TraceContext{ta, ""}, TraceContext{}};
    ASSERT_TRUE(logging.consume_delivery(whole, std::vector<std::int64_t>{10, 11}));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].trace_id, "0af7651916cd43dd8448eb211c80319c");
    EXPECT_EQ(lines[0].order_id, "a");
    EXPECT_EQ(lines[0].message, "projected OrderShipped order/a version 1 (orders-3@10)");
    EXPECT_EQ(lines[1].trace_id, "");  // a message without a traceparent
    EXPECT_EQ(lines[1].order_id, "b");

    lines.clear();
    store.poison = {"d@1"};
    Delivery apart{{event("c", 1), event("d", 1)}, {}, BusPosition{"orders-3", 22}};
    apart.traces = {TraceContext{tc, ""}, TraceContext{ta, ""}};
    ASSERT_TRUE(logging.consume_delivery(apart, std::vector<std::int64_t>{20, 21}));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(lines[0].order_id, "c");
}

}  // namespace
}  // namespace ordinal
