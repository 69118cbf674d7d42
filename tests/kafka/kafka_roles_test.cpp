// The production profile as separate processes — api, relay and projector(s) on PostgreSQL and
// Apache Kafka (a topic of each test's own on the `kafka` fixture's broker) — checked from outside
// through the HTTP API while processes are SIGKILLed and Kafka goes away: every acknowledged
// command is visible exactly as acknowledged, retries answer duplicate, stock adds up, nothing is
// doubled. Request-level errors and leader moves run on the mock cluster (`ordinal dev-kafka`).
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <thread>

#include "support/http_expect.h"
#include "support/kafka_broker.h"
#include "support/kafka_topology.h"
#include "support/mock_kafka.h"
#include "support/order_load.h"
#include "support/postgres_backend.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

using test_support::PgTestDatabase;

// `Kafka` is where the topic lives: KafkaTopic (the fixture's broker), PrivateKafkaTopic (a broker
// the test may kill) or MockKafka.
template <typename Kafka>
class KafkaRolesFixture : public ::testing::Test {
  protected:
    void SetUp() override { topo_ = std::make_unique<KafkaTopology>(logs_.path(), config()); }
    TopologyConfig config() {
        TopologyConfig c;
        c.write_db = write_.url();
        c.read_db = read_.url();
        // Short timeouts so the tests see failover in seconds: a dead projector's partitions move
        // after 6 s, a delivery that cannot complete fails after 3 s and is published again.
        c.bus = kafka_.url("session.timeout.ms=6000&message.timeout.ms=3000");
        return c;
    }
    void TearDown() override {
        if (HasFailure()) std::cerr << topo_->logs();
        if (topo_) topo_->stop_all();
    }
    std::uint16_t api_port() { return topo_->api().port(); }
    void pause(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
    void expect_clean(OrderLoad& load) {
        const auto problems = load.check();
        for (const auto& p : problems) ADD_FAILURE() << p;
        EXPECT_GT(load.acknowledged(), 20u) << "too little load got through to prove anything";
    }

    PgTestDatabase write_;
    PgTestDatabase read_;
    Kafka kafka_;
    ScratchDir logs_{"ordinal-kafka-roles"};
    std::unique_ptr<KafkaTopology> topo_;
};

using KafkaRoles = KafkaRolesFixture<KafkaTopic>;
using KafkaRolesOutage = KafkaRolesFixture<PrivateKafkaTopic>;
using KafkaRolesOnMock = KafkaRolesFixture<MockKafka>;

TEST_F(KafkaRoles, TheWholePathRunsAcrossThreeProcesses) {
    ASSERT_NO_THROW(topo_->start_all(1));
    OrdinalApi a(api_port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 250, 10);
    const auto order = a.create_order(random_uuid(), {{sku, 3}});
    const auto r = a.get("/v1/orders/" + order.order_id, order.token, 10000);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json_body()["status"], "PLACED");
    EXPECT_EQ(a.must_read("/v1/products/" + sku, join_tokens({put.token, order.token}))["stock"],
              7);
    for (int i = 0; i < 20; ++i) {  // read-your-writes, command after command
        const auto o = a.create_order(random_uuid(), {{sku, 1}});
        const auto c = a.must_command("cancel", o.order_id, json{{"reason", "r"}});
        const auto v = a.get("/v1/orders/" + o.order_id, c.token, 5000);
        ASSERT_EQ(v.status, 200) << "iteration " << i << ": " << v;
        EXPECT_EQ(v.json_body()["status"], "CANCELLED");
    }

    // Each process reports readiness for the roles it runs, and only the api serves the API.
    const auto api_ready = a.get("/readyz").json_body();
    EXPECT_EQ(api_ready["roles"], json({{"api", "ready"}})) << api_ready;
    OrdinalApi relay(topo_->relay().port());
    EXPECT_EQ(relay.get("/readyz").json_body()["roles"], json({{"relay", "ready"}}));
    EXPECT_TRUE(IsError(relay.get("/v1/products/" + sku), 404, "not_found"));
    EXPECT_EQ(KafkaTopology::held_partitions(topo_->projector(0)), 6);

    // Each role's metrics are in its own process.
    OrdinalApi projector(topo_->projector(0).port());
    EXPECT_NE(relay.get("/metrics").body.find("ordinal_relay_position"), std::string::npos);
    EXPECT_NE(relay.get("/metrics").body.find("ordinal_kafka_messages_delivered_total"),
              std::string::npos);
    EXPECT_NE(projector.get("/metrics").body.find("ordinal_projection_position"),
              std::string::npos);
    EXPECT_NE(projector.get("/metrics").body.find("ordinal_kafka_assigned_partitions 6"),
              std::string::npos);
    // A rebuild asked of the api process is run by the projector process (no relay beside it:
    // it holds its Kafka consumer off instead), once, and the model reads as before.
    const auto rebuild = a.admin_post("/v1/admin/projections/rebuild");
    ASSERT_EQ(rebuild.status, 200) << rebuild;
    EXPECT_EQ(rebuild.json_body()["eventsReplayed"], 42);  // product, order, 20 orders cancelled
    EXPECT_NE(projector.get("/metrics")
                  .body.find("ordinal_admin_requests_total{kind=\"rebuild\",result=\"done\"} 1\n"),
              std::string::npos);
    EXPECT_EQ(a.must_read("/v1/products/" + sku, join_tokens({put.token, order.token}))["stock"],
              7);
}

TEST_F(KafkaRoles, EveryProcessAsksForTheAdminToken) {
    TopologyConfig c;
    c.write_db = write_.url();
    c.read_db = read_.url();
    c.bus = kafka_.url();
    c.admin_token = "kafka-admin-token";
    topo_ = std::make_unique<KafkaTopology>(logs_.path() + "/token", c);
    ASSERT_NO_THROW(topo_->start_all(1));
    for (ServerProcess* p : {&topo_->api(), &topo_->relay(), &topo_->projector(0)}) {
        OrdinalApi anonymous(p->port());
        EXPECT_EQ(anonymous.get("/v1/admin/status").status, 401);
        OrdinalApi admin(p->port(), "kafka-admin-token");
        const auto status = admin.admin_get("/v1/admin/status");
        EXPECT_EQ(status.status, 200) << status;
    }
}

// SIGKILL of the relay and of a projector mid-batch, and of the broker: the fault campaign
// (tests/faults/kafka_faults_test.cpp), judged by `ordinal verify` too.

TEST_F(KafkaRoles, TwoProjectorProcessesShareThePartitionsAndTheSurvivorTakesOverFromAKilledOne) {
    ASSERT_NO_THROW(topo_->start_all(2));
    ASSERT_NO_THROW(topo_->wait_partitions_held(6, /*each=*/true));
    OrderLoad load([this] { return api_port(); });
    load.start();
    pause(1500);
    topo_->projector(1).kill9();
    ASSERT_NO_THROW(
        topo_->wait_partitions_held(6));  // the survivor alone, after the session timeout
    EXPECT_EQ(KafkaTopology::held_partitions(topo_->projector(0)), 6);
    pause(1000);
    load.stop();
    expect_clean(load);
}

// On the mock: a real broker cannot be told to fail requests or to move leaders and coordinators
// on demand, nor can three brokers of it be taken away at once for the price of none.
TEST_F(KafkaRolesOnMock, BrokerOutagesLeaderChangesRequestErrorsAndCoordinatorMovesUnderLoad) {
    ASSERT_NO_THROW(topo_->start_all(1));
    OrderLoad load([this] { return api_port(); });
    load.start();
    pause(700);
    kafka_.command("leader 0 2");
    kafka_.command("leader 1 3");
    kafka_.command("errors produce 5 NOT_LEADER_FOR_PARTITION");
    kafka_.command("errors fetch 5 NOT_LEADER_FOR_PARTITION");
    pause(700);
    kafka_.command("coordinator ordinal-projector 2");
    kafka_.command("errors heartbeat 3 NOT_COORDINATOR");
    pause(700);
    // Every broker away: the outbox grows (commands still succeed), then drains by itself.
    for (int b = 1; b <= 3; ++b) kafka_.command("broker-down " + std::to_string(b));
    pause(4000);
    OrdinalApi probe(api_port());
    EXPECT_FALSE(probe.get("/v1/admin/status").json_body().empty());
    for (int b = 1; b <= 3; ++b) kafka_.command("broker-up " + std::to_string(b));
    kafka_.command("leader 2 3");
    pause(1500);
    load.stop();
    expect_clean(load);
}

}  // namespace
}  // namespace ordinal::test

namespace ordinal::test {
namespace {

// A projector's /readyz is 503 until it holds its group assignment, sought to the read store's
// positions. Started while the broker is SIGSTOPped, it cannot join, so every answer in that time
// must be 503 holding nothing; once the broker runs again it gets ready, and it goes on from the
// stored positions: it reads only what came after, not the topic from its start.
TEST_F(KafkaRolesOutage, AProjectorIsNotReadyUntilItHoldsItsAssignmentSoughtToTheStoredPositions) {
    ASSERT_NO_THROW(topo_->start_all(1));
    OrdinalApi a(api_port());
    const auto sku = unique_sku();
    a.create_product(sku, 100, 1000);
    std::vector<Ack> before;
    for (int i = 0; i < 20; ++i) before.push_back(a.create_order(random_uuid(), {{sku, 1}}));
    // Everything before the projector leaves is stored, so that nothing but the new order is
    // left to read: every order's own token (the last one's alone covers only its partition:
    // on a loaded machine earlier orders of other partitions were still unprojected, and the
    // restarted projector read them too), and an empty outbox (no batch whose delivery report
    // is outstanding, to be published again after the broker's freeze).
    for (const Ack& o : before)
        ASSERT_EQ(a.get("/v1/orders/" + o.order_id, o.token, 10000).status, 200) << o.order_id;
    std::int64_t pending = -1;
    for (int i = 0; i < 300 && pending != 0; ++i) {
        const json outbox = a.get("/v1/admin/status").json_body()["outbox"];
        pending = outbox.is_object() ? outbox["pending"].get<std::int64_t>() : -1;
        if (pending != 0) pause(100);
    }
    ASSERT_EQ(pending, 0) << "the relay never emptied the outbox";
    ASSERT_EQ(topo_->projector(0).terminate(), 0);  // a clean leave: the group is empty

    kafka_.broker().freeze();
    ASSERT_NO_THROW(topo_->projector(0).start());
    // Each answer takes about a second meanwhile (the readiness probe's metadata request waits
    // that long for the frozen broker), more on a loaded machine: the client waits up to 10 s
    // (at 2 s, an answer late on a loaded machine read as no answer, -1).
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(KafkaTopology::readiness(topo_->projector(0), std::chrono::seconds(10)), 503);
        EXPECT_EQ(KafkaTopology::held_partitions(topo_->projector(0)), 0);
    }
    kafka_.broker().thaw();
    // From the thaw on, each answer is 503 or else 200 holding every partition: never ready
    // holding fewer.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = -1;
    while (status != 200 && std::chrono::steady_clock::now() < deadline) {
        const auto r = OrdinalApi(topo_->projector(0).port()).get("/readyz");
        status = r.status;
        if (status == 200) {
            EXPECT_NE(r.body.find("holds 6 partition(s)"), std::string::npos) << r;
        } else {
            EXPECT_EQ(status, 503) << r;
            pause(20);
        }
    }
    ASSERT_EQ(status, 200);

    const auto after = a.create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(a.get("/v1/orders/" + after.order_id, after.token, 10000).status, 200);
    const std::string metrics = OrdinalApi(topo_->projector(0).port()).get("/metrics").body;
    const std::string name = "\nordinal_kafka_messages_consumed_total ";
    const auto at = metrics.find(name);
    ASSERT_NE(at, std::string::npos) << metrics;
    // The new order's events; the 21 commands before it (over 40 events) are not read again.
    EXPECT_LE(std::stod(metrics.substr(at + name.size())), 5) << metrics;
}

// With Kafka away the outbox grows; the api process (no relay in it) sees that through the write
// store and sheds commands at the configured bound; when Kafka returns the backlog drains by
// itself and commands are accepted again.
TEST_F(KafkaRolesOutage, BackpressureEngagesInTheApiProcessWhileKafkaIsAwayAndTheBacklogDrains) {
    TopologyConfig c;
    c.write_db = write_.url();
    c.read_db = read_.url();
    c.bus = kafka_.url("message.timeout.ms=2000");
    c.extra_args = {"--max-outbox-pending", "40"};
    topo_ = std::make_unique<KafkaTopology>(logs_.path() + "/bound", c);
    ASSERT_NO_THROW(topo_->start_all(1));
    OrdinalApi a(api_port());
    const auto sku = unique_sku();
    a.create_product(sku, 100, 100000);
    kafka_.broker().kill();

    std::vector<Ack> accepted;
    bool shed = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!shed && std::chrono::steady_clock::now() < deadline) {
        const auto r = a.place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
        if (r.status == 202) {
            accepted.push_back(to_ack(r));
        } else {
            ASSERT_TRUE(IsError(r, 503, "overloaded")) << r;
            EXPECT_TRUE(r.header("Retry-After").has_value()) << r;
            shed = true;
        }
    }
    ASSERT_TRUE(shed) << "no 503 overloaded after " << accepted.size() << " orders with Kafka away";
    EXPECT_GT(accepted.size(), 40u);
    const auto metrics = a.get("/metrics").body;
    EXPECT_NE(metrics.find("ordinal_outbox_pending"), std::string::npos) << metrics;

    kafka_.broker().up();
    // The backlog drains once the relay has reconnected and the projector holds its partitions
    // again: its group session may have expired during the outage, and then it joins anew.
    ASSERT_NO_THROW(topo_->wait_partitions_held(6));
    for (const auto& ack : accepted) {
        const auto r = a.get("/v1/orders/" + ack.order_id, ack.token, 10000);
        ASSERT_EQ(r.status, 200) << r;
    }
    // The api reads the outbox depth every 250 ms: within a few of those, commands get through.
    HttpResponse after;
    for (int i = 0; i < 50; ++i) {
        after = a.place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
        if (after.status == 202) break;
        pause(100);
    }
    EXPECT_EQ(after.status, 202) << after;
}

}  // namespace
}  // namespace ordinal::test

namespace ordinal::test {
namespace {

json dead_letters(OrdinalApi& a) {
    const auto r = a.admin_get("/v1/admin/dead-letters");
    if (r.status != 200) throw std::runtime_error("dead letters: " + r.describe());
    return r.json_body()["deadLetters"];
}

// Poison on the topic goes to the dead letters (with what its headers say) without stopping other
// streams, nor the stream it claims to belong to; the admin API lists it and a retry keeps it.
// (Streams held behind a dead letter and retried in order: ReadStoreContract.Retry*.)
TEST_F(KafkaRoles, PoisonIsDeadLetteredWithoutStoppingAnyStreamAndListedThroughTheAdminApi) {
    ASSERT_NO_THROW(topo_->start_all(1));
    OrdinalApi a(api_port());
    const auto sku = unique_sku();
    a.create_product(sku, 100, 100);
    const auto held = a.create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(a.get("/v1/orders/" + held.order_id, held.token, 10000).status, 200);

    kafka_.produce("anything", {}, "{this is not an event");
    kafka_.produce(held.order_id,
                   {{"streamType", "order"}, {"version", "2"}, {"type", "OrderPaid"}},
                   "{\"broken\":");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (dead_letters(a).size() < 2 && std::chrono::steady_clock::now() < deadline) pause(100);
    const auto poison = dead_letters(a);
    ASSERT_EQ(poison.size(), 2u) << poison;
    for (const auto& d : poison) {
        EXPECT_NE(d["reason"].get<std::string>().find("undecodable"), std::string::npos) << d;
        EXPECT_EQ(d["partition"].get<std::string>().rfind(kafka_.topic() + "/", 0), 0u) << d;
    }

    // Other streams flow.
    const auto other = a.create_order(random_uuid(), {{sku, 2}});
    EXPECT_EQ(a.get("/v1/orders/" + other.order_id, other.token, 10000).status, 200);

    // A poisoned copy of the held stream's version 2 does not hold back the good copy the relay
    // publishes: it is applied in order.
    const auto paid =
        a.must_command("pay", held.order_id, json{{"paymentRef", "p-1"}, {"amountMinor", 100}});
    const auto now_paid = a.get("/v1/orders/" + held.order_id, paid.token, 10000);
    ASSERT_EQ(now_paid.status, 200) << now_paid;
    EXPECT_EQ(now_paid.json_body()["status"], "PAID");

    // A retry cannot decode poison: it stays, with its reason, and nothing else changes.
    const auto retry = a.admin_post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.json_body()["retried"], 2) << retry;
    EXPECT_EQ(retry.json_body()["applied"], 0) << retry;
    EXPECT_EQ(retry.json_body()["remaining"], 2) << retry;
    EXPECT_EQ(dead_letters(a).size(), 2u);
    EXPECT_EQ(a.must_read("/v1/orders/" + held.order_id)["status"], "PAID");
}

// The JSON log line of `process` whose message starts with `prefix` and that names `trace_id`,
// waited for up to `within` (a line is written just after what the test saw happen).
std::optional<json> wait_log_line(ServerProcess& process, const std::string& prefix,
                                  const std::string& trace_id, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    do {
        std::istringstream lines(process.log());
        std::string line;
        while (std::getline(lines, line)) {
            const json j = json::parse(line, nullptr, false);
            if (j.is_discarded() || !j.is_object() || !j.contains("message")) continue;
            if (j["message"].get<std::string>().rfind(prefix, 0) == 0 &&
                j.value("trace_id", "") == trace_id)
                return j;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

// Issue #13: one order followed across processes by its W3C trace id. A command sent with a
// traceparent shows the same trace id in the api's command log line, in the Kafka message the
// relay published (its traceparent and tracestate headers, read back by a consumer of the test's
// own), and in the projector's apply log line; every process logs JSON (--log-format json).
TEST_F(KafkaRoles, ATraceparentIsFollowedFromTheApiThroughKafkaToTheProjector) {
    TopologyConfig c = config();
    c.extra_args = {"--log-format", "json"};
    topo_ = std::make_unique<KafkaTopology>(logs_.path(), c);
    ASSERT_NO_THROW(topo_->start_all(1));
    OrdinalApi a(api_port());
    const auto sku = unique_sku();
    a.create_product(sku, 250, 10);

    const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    const std::string caller_span = "00f067aa0ba902b7";
    const auto placed =
        a.place_order(order_body(random_uuid(), "EUR", {{sku, 2}}), random_uuid(),
                      {{"traceparent", "00-" + trace_id + "-" + caller_span + "-01"},
                       {"tracestate", "rojo=00f067aa0ba902b7"}});
    ASSERT_EQ(placed.status, 202) << placed;
    const auto order = to_ack(placed);
    const std::string echoed = placed.header("traceparent").value_or("");
    EXPECT_EQ(echoed.substr(0, 36), "00-" + trace_id + "-") << echoed;
    ASSERT_EQ(a.get("/v1/orders/" + order.stream_id, order.token, 10000).status, 200);

    // The api's command line.
    const auto api_line = wait_log_line(topo_->api(), "command place_order answered 202", trace_id,
                                        std::chrono::seconds(5));
    ASSERT_TRUE(api_line) << topo_->api().log();
    EXPECT_EQ((*api_line)["order_id"], order.stream_id) << *api_line;
    EXPECT_EQ((*api_line)["level"], "info");
    EXPECT_TRUE(api_line->contains("timestamp"));

    // The message on the topic: the trace id, Ordinal's span as the parent (the one the api
    // answered with), the caller's sampled flag and tracestate.
    KafkaTopicReader reader(kafka_.bootstrap(), kafka_.topic(), 6);
    const auto message = reader.find(
        [&](const KafkaRecord& r) {
            return r.key == order.stream_id && r.header("type") == std::string("OrderPlaced");
        },
        std::chrono::seconds(20));
    ASSERT_TRUE(message) << "the relay's OrderPlaced message never showed on the topic";
    EXPECT_EQ(message->header("traceparent"), echoed);
    EXPECT_NE(echoed.find("-" + trace_id + "-"), std::string::npos);
    EXPECT_EQ(echoed.find(caller_span), std::string::npos);
    EXPECT_EQ(echoed.substr(echoed.size() - 3), "-01");
    EXPECT_EQ(message->header("tracestate"), std::string("rojo=00f067aa0ba902b7"));

    // The projector's apply line.
    const auto projector_line =
        wait_log_line(topo_->projector(0), "projected OrderPlaced order/" + order.stream_id,
                      trace_id, std::chrono::seconds(10));
    ASSERT_TRUE(projector_line) << topo_->projector(0).log();
    EXPECT_EQ((*projector_line)["order_id"], order.stream_id) << *projector_line;

    // A command without a traceparent gets a trace of its own, carried the same way.
    const auto plain = a.create_order(random_uuid(), {{sku, 1}});
    const auto plain_message = reader.find(
        [&](const KafkaRecord& r) { return r.key == plain.stream_id; }, std::chrono::seconds(20));
    ASSERT_TRUE(plain_message);
    const std::string minted = plain_message->header("traceparent").value_or("");
    ASSERT_EQ(minted.size(), 55u) << minted;
    EXPECT_EQ(minted.find(trace_id), std::string::npos);
    EXPECT_FALSE(plain_message->header("tracestate"));
    EXPECT_TRUE(wait_log_line(topo_->projector(0), "projected OrderPlaced order/" + plain.stream_id,
                              minted.substr(3, 32), std::chrono::seconds(10)))
        << topo_->projector(0).log();
}

}  // namespace
}  // namespace ordinal::test

namespace ordinal::test {
namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// A stack started from nothing — a new broker (no consumer group, no offsets topic yet), new
// databases, then api, relay and projector with the product's own Kafka settings — keeps the
// contract from its first moment: the first order placed as soon as every process reports ready
// reads back with its token within the default wait. The projector's time from process start to
// ready (its first assignment, sought to the stored positions) goes to the test's output.
TEST(KafkaColdStart, TheFirstOrderPlacedOnceEveryProcessIsReadyReadsBackWithinTheDefaultWait) {
    PrivateKafka broker;
    KafkaTopic topic(6, broker.bootstrap());  // the operator creates it; Ordinal never does
    PgTestDatabase write, read;
    ScratchDir logs("ordinal-kafka-cold");
    TopologyConfig c;
    c.write_db = write.url();
    c.read_db = read.url();
    c.bus = topic.url();
    KafkaTopology topo(logs.path(), c);
    ASSERT_NO_THROW(topo.start_api());
    ASSERT_NO_THROW(topo.start_relay());
    const auto projector_started = Clock::now();
    ASSERT_NO_THROW(topo.add_projector());
    ASSERT_NO_THROW(topo.wait_ready()) << topo.logs();
    const long long to_ready = ms_since(projector_started);
    EXPECT_EQ(KafkaTopology::held_partitions(topo.projector(0)), 6);
    RecordProperty("projector_start_to_ready_ms", std::to_string(to_ready));
    std::cout << "projector: process start to first assignment (ready) " << to_ready << " ms\n";

    OrdinalApi a(topo.api().port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 100, 10);
    const auto order = a.create_order(random_uuid(), {{sku, 1}});
    const auto r = a.get("/v1/orders/" + order.order_id, order.token);
    EXPECT_EQ(r.status, 200) << r << "\n" << topo.logs();
    const auto p = a.get("/v1/products/" + sku, join_tokens({put.token, order.token}));
    EXPECT_EQ(p.status, 200) << p;
    topo.stop_all();
}

}  // namespace
}  // namespace ordinal::test

namespace ordinal::test {
namespace {

// The topic missing at start: Ordinal never creates its topic (partitions and replication are the
// operator's choice), so a relay or projector pointed at one the broker does not know exits at
// once with an error naming it, rather than retrying or waiting for an assignment forever. Once
// the operator has created it, the same command starts.
TEST(KafkaTopicMissing, ARelayOrProjectorExitsNamingTheTopicAndStartsOnceItIsCreated) {
    ScratchDir dir("ordinal-topic-missing");
    const std::string bootstrap = kafka_fixture_bootstrap();
    const std::string topic = random_kafka_name("ordinal-missing-");
    // A group of its own: the fixture's broker serves the whole tier.
    const std::string bus = "kafka://" + bootstrap + "/" + topic + "?group.id=" + topic + "-g";
    for (const std::string role : {"relay", "projector"}) {
        const auto [code, out] = ChildProcess::run(
            ORDINAL_BINARY,
            {"serve", "--listen", "127.0.0.1:" + std::to_string(pick_free_port()), "--data-dir",
             dir.path() + "/" + role, "--roles", role, "--bus", bus},
            dir.path() + "/" + role + ".log", {}, std::chrono::seconds(30));
        EXPECT_NE(code, 0) << role << ":\n" << out;
        EXPECT_NE(out.find("kafka topic '" + topic + "' does not exist"), std::string::npos)
            << role << ":\n"
            << out;
    }
    KafkaAdminClient admin(bootstrap);
    admin.create_topic(topic, 6, 1);
    for (const std::string role : {"relay", "projector"}) {
        ServerProcess p(ORDINAL_BINARY, dir.path() + "/" + role, dir.path(),
                        {"--roles", role, "--bus", bus});
        ASSERT_NO_THROW(p.start()) << role;
        int status = -1;
        for (int i = 0; i < 300 && (status = KafkaTopology::readiness(p)) != 200; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_EQ(status, 200) << role << ":\n" << p.log();
        EXPECT_EQ(p.terminate(), 0) << role;
    }
    admin.delete_topic(topic);
}

}  // namespace
}  // namespace ordinal::test
