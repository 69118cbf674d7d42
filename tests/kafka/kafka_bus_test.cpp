// The Kafka bus adapter against Apache Kafka (a topic of each test's own on the `kafka` fixture's
// broker; a broker of the test's own where it takes the broker away): what the relay publishes
// reaches the projector in per-stream order, through broker outages, projector failures and
// rebalances, with nothing lost and nothing applied twice in effect. Request-level errors,
// leader and coordinator moves run on librdkafka's mock cluster (`ordinal dev-kafka`).
#include "adapters/kafka/kafka_bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kafka/recording_consumer.h"
#include "ports/metrics.h"
#include "support/kafka_broker.h"
#include "support/mock_kafka.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

Event placed_event(const std::string& order_id, std::int64_t version) {
    Event e;
    e.event_id = random_uuid();
    e.stream = StreamKey{StreamType::Order, order_id};
    e.version = version;
    e.occurred_at = "2026-11-27T12:00:00.000Z";
    e.causation_id = random_uuid();
    if (version == 1) {
        OrderPlaced d;
        d.user_id = random_uuid();
        d.currency = "EUR";
        d.items.push_back(OrderLine{"SKU-1", 1, 100});
        d.total_minor = 100;
        e.data = d;
    } else {
        e.data = OrderPaid{"pay-" + std::to_string(version), 100};
    }
    return e;
}

// `streams` order streams with `versions` events each, interleaved the way an outbox holds them.
std::vector<StoredEvent> outbox(int streams, int versions, std::int64_t first_seq = 1) {
    std::vector<std::string> ids;
    for (int s = 0; s < streams; ++s) ids.push_back(random_uuid());
    std::vector<StoredEvent> out;
    std::int64_t seq = first_seq;
    for (int v = 1; v <= versions; ++v) {
        for (const auto& id : ids)
            out.push_back(StoredEvent{seq++, placed_event(id, v), std::nullopt});
    }
    return out;
}

Expected<void, StoreError> publish_in_batches(KafkaBus& bus, const std::vector<StoredEvent>& events,
                                              std::size_t batch) {
    for (std::size_t i = 0; i < events.size(); i += batch) {
        const auto n = std::min(batch, events.size() - i);
        if (auto ok = bus.publish(std::span(events).subspan(i, n)); !ok) return ok;
    }
    return {};
}

void expect_each_stream_complete_and_in_order(RecordingConsumer& c, int streams, int versions) {
    const auto order = c.order();
    ASSERT_EQ(order.size(), static_cast<std::size_t>(streams));
    for (const auto& [stream, seen] : order) {
        ASSERT_EQ(seen.size(), static_cast<std::size_t>(versions)) << stream.id;
        for (int v = 0; v < versions; ++v) EXPECT_EQ(seen[v], v + 1) << stream.id;
    }
}

// `Kafka` is where the topic lives: KafkaTopic (the fixture's broker), PrivateKafkaTopic or
// MockKafka.
template <typename Kafka>
class KafkaBusFixture : public ::testing::Test {
  protected:
    std::unique_ptr<KafkaBus> open_bus(bool produce, bool consume,
                                       const std::string& properties = {}) {
        KafkaBusOptions o;
        o.url = kafka_.url(properties);
        o.produce = produce;
        o.consume = consume;
        o.metrics = &metrics_;
        auto bus = make_kafka_bus(std::move(o));
        if (!bus) throw std::runtime_error(bus.error());
        return std::move(*bus);
    }
    double metric(const std::string& name) {
        const std::string text = metrics_.render_prometheus();
        const auto at = text.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
    }

    Kafka kafka_;
    MetricsRegistry metrics_;
    RecordingConsumer projector_;
};

using KafkaBusTest = KafkaBusFixture<KafkaTopic>;
using KafkaBusOutageTest = KafkaBusFixture<PrivateKafkaTopic>;
using KafkaBusOnMockTest = KafkaBusFixture<MockKafka>;

TEST_F(KafkaBusTest, EveryPublishedEventReachesTheProjectorInStreamOrder) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const auto events = outbox(20, 10);
    ASSERT_TRUE(publish_in_batches(*bus, events, 37));
    ASSERT_TRUE(projector_.wait_applied(events.size())) << projector_.applied();
    expect_each_stream_complete_and_in_order(projector_, 20, 10);
    EXPECT_EQ(projector_.duplicates(), 0u);
    EXPECT_EQ(metric("ordinal_kafka_messages_delivered_total"), 200);
    EXPECT_EQ(bus->assigned_partitions().size(), 6u);
    EXPECT_TRUE(bus->check_ready());
}

// What the relay does now: the next batches are produced while earlier ones await their delivery
// reports. Every batch gets its outcome (and its callback), and each stream arrives in order.
TEST_F(KafkaBusTest, BatchesSentWithoutWaitingSettleEachAndKeepStreamOrder) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const auto events = outbox(30, 8);  // a stream's versions spread over every batch
    std::atomic<int> settled{0};
    std::vector<std::unique_ptr<Publication>> out;
    for (std::size_t i = 0; i < events.size(); i += 30)
        out.push_back(bus->publish_async(std::span(events).subspan(i, 30), [&] { ++settled; }));
    ASSERT_EQ(out.size(), 8u);
    for (auto& p : out) {
        const auto outcome = p->wait(std::chrono::seconds(30));
        ASSERT_TRUE(outcome) << "no outcome in time";
        ASSERT_TRUE(*outcome) << outcome->error().message;
    }
    EXPECT_EQ(settled.load(), 8);
    ASSERT_TRUE(projector_.wait_applied(events.size())) << projector_.applied();
    expect_each_stream_complete_and_in_order(projector_, 30, 8);
    EXPECT_EQ(projector_.duplicates(), 0u);
    EXPECT_EQ(metric("ordinal_kafka_messages_delivered_total"), 240);
}

TEST_F(KafkaBusTest, ARestartedProjectorResumesAtTheStoredPositionsNotAtKafkasOffsets) {
    const auto first = outbox(10, 5);
    {
        auto bus = open_bus(true, true);
        bus->subscribe(&projector_);
        ASSERT_TRUE(publish_in_batches(*bus, first, 50));
        ASSERT_TRUE(projector_.wait_applied(first.size()));
    }
    const auto deliveries_before = projector_.deliveries();
    auto relay = open_bus(true, false);
    const auto second = outbox(10, 5, 1000);
    ASSERT_TRUE(publish_in_batches(*relay, second, 50));
    auto bus = open_bus(false, true);
    bus->subscribe(&projector_);
    ASSERT_TRUE(projector_.wait_applied(first.size() + second.size()));
    // Nothing below the stored positions was handed over again.
    EXPECT_EQ(projector_.duplicates(), 0u);
    EXPECT_GT(projector_.deliveries(), deliveries_before);

    // A read store that knows nothing (a rebuilt read model, a new database) is replayed from the
    // start of every partition, although the group has offsets committed in Kafka.
    bus.reset();
    RecordingConsumer empty_store;
    auto fresh = open_bus(false, true);
    fresh->subscribe(&empty_store);
    ASSERT_TRUE(empty_store.wait_applied(first.size() + second.size())) << empty_store.applied();
    expect_each_stream_complete_and_in_order(empty_store, 20, 5);
}

TEST_F(KafkaBusOutageTest, TheBrokerKilledFailsThePublishAndTheBacklogGoesOutWhenItReturns) {
    // Long enough for a first delivery to a broker whose JVM just started on a loaded machine.
    auto bus = open_bus(true, true, "message.timeout.ms=5000");
    bus->subscribe(&projector_);
    const auto before = outbox(5, 2);
    ASSERT_TRUE(publish_in_batches(*bus, before, 10));
    ASSERT_TRUE(projector_.wait_applied(before.size()));

    kafka_.broker().kill();
    const auto during = outbox(5, 2, 100);
    const auto failed = bus->publish(during);
    ASSERT_FALSE(failed) << "a publish with the broker down must not report success";
    EXPECT_TRUE(failed.error().retryable());
    EXPECT_FALSE(bus->check_ready());
    // Batches sent one after another (the relay's pipeline) all fail, and each gets its outcome.
    std::atomic<int> settled{0};
    std::vector<std::unique_ptr<Publication>> out;
    for (std::size_t i = 0; i < during.size(); i += 4)
        out.push_back(bus->publish_async(
            std::span(during).subspan(i, std::min<std::size_t>(4, during.size() - i)),
            [&] { ++settled; }));
    for (auto& p : out) {
        const auto outcome = p->wait(std::chrono::seconds(30));
        ASSERT_TRUE(outcome) << "no outcome in time";
        EXPECT_FALSE(*outcome) << "a batch with the broker down must not report success";
    }
    EXPECT_EQ(settled.load(), static_cast<int>(out.size()));

    kafka_.broker().up();
    // The relay publishes the same batch again until it succeeds.
    bool sent = false;
    for (int attempt = 0; attempt < 30 && !sent; ++attempt) {
        sent = bus->publish(during).has_value();
        if (!sent) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(sent);
    ASSERT_TRUE(projector_.wait_applied(before.size() + during.size()));
    EXPECT_GE(metric("ordinal_kafka_delivery_failures_total"), 1);
}

// Ordinal never creates its topic: a relay or projector bus on a topic the broker does not know
// fails to open, naming the topic, and asking for it does not create it (even on a broker that
// would auto-create topics, the check asks with auto-creation off).
TEST(KafkaTopicCheck, ABusOnATopicTheBrokerDoesNotKnowFailsToOpenNamingIt) {
    const std::string missing = random_kafka_name("ordinal-missing-");
    for (const bool produce : {true, false}) {
        KafkaBusOptions o;
        o.url = "kafka://" + kafka_fixture_bootstrap() + "/" + missing;
        o.produce = produce;
        o.consume = !produce;
        auto bus = make_kafka_bus(std::move(o));
        ASSERT_FALSE(bus) << (produce ? "relay" : "projector");
        EXPECT_NE(bus.error().find("kafka topic '" + missing + "' does not exist"),
                  std::string::npos)
            << bus.error();
    }
    // An api-only process has no bus side and opens without asking.
    KafkaBusOptions api;
    api.url = "kafka://" + kafka_fixture_bootstrap() + "/" + missing;
    EXPECT_TRUE(make_kafka_bus(std::move(api)));
}

// On the mock: a real broker cannot be told to fail requests or to move a leader on demand.
TEST_F(KafkaBusOnMockTest, ProduceAndFetchErrorsAndLeaderChangesAreRiddenOut) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const auto events = outbox(12, 6);
    const std::size_t third = events.size() / 3;
    ASSERT_TRUE(bus->publish(std::span(events).subspan(0, third)));
    kafka_.command("errors produce 4 NOT_LEADER_FOR_PARTITION");
    kafka_.command("errors fetch 4 NOT_LEADER_FOR_PARTITION");
    kafka_.command("leader 0 2");
    kafka_.command("leader 1 3");
    kafka_.command("leader 2 1");
    ASSERT_TRUE(bus->publish(std::span(events).subspan(third, third)));
    kafka_.command("errors produce 3 REQUEST_TIMED_OUT");
    kafka_.command("leader 0 3");
    ASSERT_TRUE(bus->publish(std::span(events).subspan(2 * third)));
    ASSERT_TRUE(projector_.wait_applied(events.size())) << projector_.applied();
    expect_each_stream_complete_and_in_order(projector_, 12, 6);
}

// On the mock: a real broker cannot be made to fail one chosen produce request. A stream's
// v1 goes out in one batch and, while that batch's produce request is at the broker (answered
// with an error a second later), its v2 goes out in the next, as the relay's pipeline does. The
// mock does not check an idempotent producer's sequence numbers, so with several requests in
// flight it wrote v2, librdkafka took v1 as written and reported it delivered, and v1 was lost:
// the cause of KafkaRolesOnMock.BrokerOutages… losing an order's token read with
// --relay-in-flight 4 (see MockKafka::url). With one request in flight per connection v1 is
// retried before v2 is sent.
TEST_F(KafkaBusOnMockTest, AProduceRequestFailingWhileTheNextIsInFlightLosesNothing) {
    for (int p = 0; p < 6; ++p) kafka_.command("leader " + std::to_string(p) + " 1");
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const auto warm_up = outbox(6, 1);  // producer id, metadata and connections in place
    ASSERT_TRUE(bus->publish(warm_up));
    const auto stream = outbox(1, 2, 100);
    kafka_.command("request-error 1 produce NOT_LEADER_FOR_PARTITION 1000");
    auto first = bus->publish_async(std::span(stream).subspan(0, 1), {});
    kafka_.command("await-request 1 produce");  // v1's request is at the broker, failing
    auto second = bus->publish_async(std::span(stream).subspan(1, 1), {});
    for (auto* p : {&first, &second}) {
        const auto outcome = (*p)->wait(std::chrono::seconds(30));
        ASSERT_TRUE(outcome) << "no outcome in time";
        ASSERT_TRUE(*outcome) << outcome->error().message;
    }
    ASSERT_TRUE(projector_.wait_applied(warm_up.size() + 2, std::chrono::seconds(10)))
        << projector_.applied() << " applied, " << projector_.gaps() << " gap(s)";
    EXPECT_EQ(projector_.order()[stream[0].event.stream], (std::vector<std::int64_t>{1, 2}));
}

// On the mock: a real broker cannot be told to move a group's coordinator or fail heartbeats.
TEST_F(KafkaBusOnMockTest, ACoordinatorMoveDoesNotStopTheProjection) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const auto events = outbox(8, 4);
    ASSERT_TRUE(bus->publish(std::span(events).subspan(0, 16)));
    ASSERT_TRUE(projector_.wait_applied(16));
    kafka_.command("coordinator ordinal-projector 3");
    kafka_.command("errors heartbeat 2 NOT_COORDINATOR");
    ASSERT_TRUE(bus->publish(std::span(events).subspan(16)));
    ASSERT_TRUE(projector_.wait_applied(events.size()));
    expect_each_stream_complete_and_in_order(projector_, 8, 4);
}

TEST_F(KafkaBusTest, APartitionTheProjectorCouldNotStoreIsReadAgainFromItsStoredPosition) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    projector_.fail_next(5);
    const auto events = outbox(10, 3);
    ASSERT_TRUE(bus->publish(events));
    ASSERT_TRUE(projector_.wait_applied(events.size()));
    expect_each_stream_complete_and_in_order(projector_, 10, 3);
    EXPECT_GE(metric("ordinal_kafka_redeliveries_total"), 5);
}

TEST_F(KafkaBusTest, APoisonMessageIsHandedOverAsADeadLetterWithWhatItsHeadersSay) {
    auto bus = open_bus(true, true);
    bus->subscribe(&projector_);
    const std::string order_id = random_uuid();
    kafka_.produce(order_id, {{"streamType", "order"}, {"version", "1"}, {"type", "OrderPlaced"}},
                   "{not json");
    ASSERT_TRUE(projector_.wait_dead(1));
    const auto dead = projector_.dead();
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].stream, "order/" + order_id);
    EXPECT_EQ(dead[0].version, 1);
    EXPECT_EQ(dead[0].event_type, "OrderPlaced");
    EXPECT_EQ(dead[0].payload, "{not json");
    EXPECT_NE(dead[0].reason.find("undecodable"), std::string::npos) << dead[0].reason;
    EXPECT_EQ(dead[0].position.partition.rfind(kafka_.topic() + "/", 0), 0u)
        << dead[0].position.partition;
    // The stream's good events still flow.
    const auto events = outbox(3, 2);
    ASSERT_TRUE(bus->publish(events));
    ASSERT_TRUE(projector_.wait_applied(events.size()));
}

TEST_F(KafkaBusTest, TwoProjectorsShareThePartitionsAndTheSurvivorTakesThemAllOver) {
    auto relay = open_bus(true, false);
    auto a = open_bus(false, true, "session.timeout.ms=6000");
    a->subscribe(&projector_);
    auto b = open_bus(false, true, "session.timeout.ms=6000");
    b->subscribe(&projector_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline &&
           !(a->assigned_partitions().size() + b->assigned_partitions().size() == 6 &&
             !a->assigned_partitions().empty() && !b->assigned_partitions().empty())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(a->assigned_partitions().empty());
    ASSERT_FALSE(b->assigned_partitions().empty());
    ASSERT_EQ(a->assigned_partitions().size() + b->assigned_partitions().size(), 6u);

    const auto first = outbox(20, 3);
    ASSERT_TRUE(relay->publish(first));
    ASSERT_TRUE(projector_.wait_applied(first.size()));

    b.reset();  // leaves the group
    const auto second = outbox(20, 3, 1000);
    ASSERT_TRUE(relay->publish(second));
    ASSERT_TRUE(projector_.wait_applied(first.size() + second.size()));
    EXPECT_EQ(a->assigned_partitions().size(), 6u);
    EXPECT_EQ(projector_.duplicates(), 0u);
}

TEST(KafkaUrl, ParsesBrokersTopicAndProperties) {
    auto a = parse_kafka_url("kafka://h1:9092,h2:9093/orders?group.id=g%201&linger.ms=5");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->brokers, "h1:9092,h2:9093");
    EXPECT_EQ(a->topic, "orders");
    ASSERT_EQ(a->properties.size(), 2u);
    EXPECT_EQ(a->properties[0], (std::pair<std::string, std::string>{"group.id", "g 1"}));
    EXPECT_FALSE(parse_kafka_url("kafka://h1:9092"));
    EXPECT_FALSE(parse_kafka_url("kafka://h1:9092/"));
    EXPECT_FALSE(parse_kafka_url("kafka:///orders"));
    EXPECT_FALSE(parse_kafka_url("kafka://h/bad topic"));
    EXPECT_FALSE(parse_kafka_url("kafka://h/t?novalue"));
    EXPECT_FALSE(parse_kafka_url("kafka://h/t?x=%zz"));
    KafkaBusOptions o;
    o.url = "kafka://h:1/t?no.such.property=1";
    o.produce = true;
    auto bus = make_kafka_bus(o);
    ASSERT_FALSE(bus);
    EXPECT_NE(bus.error().find("no.such.property"), std::string::npos) << bus.error();
}

}  // namespace
}  // namespace ordinal::test
