// Issue 12: a stalled projector assignment, seen from an api-only process of the production shape
// (api, relay and projector processes on PostgreSQL and Apache Kafka). Per partition the status
// shows the projected position against the partition's end and its owner, and in all what waits
// (the console overview's lag); a projector stopped
// (SIGSTOP: its heartbeat stops) or alive with its position frozen while messages wait (a read
// row held locked under it) is reported stalled within the bound — in the status, in the api
// process's ordinal_projection_stalled gauge, in one log line, and on the owner's /readyz — and
// clears once it moves again.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "support/http_expect.h"
#include "support/kafka_broker.h"
#include "support/kafka_topology.h"
#include "support/postgres_backend.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

using test_support::PgTestDatabase;
using namespace std::chrono_literals;

// Heartbeats often, stale and stalled soon, so each stall shows within seconds.
constexpr auto kStallBound = 2000ms;

class ProjectionStall : public ::testing::Test {
  protected:
    void SetUp() override {
        TopologyConfig c;
        c.write_db = write_.url();
        c.read_db = read_.url();
        c.bus = kafka_.url("session.timeout.ms=6000&message.timeout.ms=3000");
        c.extra_args = {"--heartbeat-ms",        "200",
                        "--process-stale-ms",    std::to_string(kStallBound.count()),
                        "--projection-stall-ms", std::to_string(kStallBound.count())};
        topo_ = std::make_unique<KafkaTopology>(logs_.path(), c);
        ASSERT_NO_THROW(topo_->start_all(1));
    }
    void TearDown() override {
        if (HasFailure() && topo_) std::cerr << topo_->logs();
        if (topo_) topo_->stop_all();
    }

    // The api process's status, read until `done(partitions)` or `within`; the last partitions.
    json stall_partitions_until(const std::function<bool(const json&)>& done,
                                std::chrono::milliseconds within = 30s) {
        OrdinalApi a(topo_->api().port());
        json last;
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto r = a.admin_get("/v1/admin/status");
            if (r.status == 200 && r.json_body()["projection"].is_object()) {
                last = r.json_body()["projection"]["partitions"];
                if (done(last)) return last;
            }
            std::this_thread::sleep_for(20ms);
        }
        return last;
    }
    // ordinal_projection_stalled for `partition` in the api process's /metrics, or -1.
    double stall_gauge(const std::string& partition) {
        const std::string text = OrdinalApi(topo_->api().port()).get("/metrics").body;
        const std::string line = "\nordinal_projection_stalled{partition=\"" + partition + "\"} ";
        const auto at = text.find(line);
        return at == std::string::npos ? -1 : std::stod(text.substr(at + line.size()));
    }
    bool stall_gauge_reaches(const std::string& partition, double value) {
        for (int i = 0; i < 250; ++i) {
            if (stall_gauge(partition) == value) return true;
            std::this_thread::sleep_for(20ms);
        }
        return false;
    }
    std::string projector_id() {
        return OrdinalApi(topo_->projector(0).port())
            .admin_get("/v1/admin/status")
            .json_body()["processId"];
    }
    static std::size_t stall_lines(const std::string& log, const std::string& what) {
        std::size_t n = 0;
        for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
        return n;
    }
    // Every partition held by `owner`, live, caught up with a known end, not stalled, and
    // `messages` applied in all (the ends the heartbeats report lag by up to a heartbeat).
    static bool all_caught_up(const json& parts, const std::string& owner, int messages = 0) {
        if (!parts.is_array() || parts.size() != 6) return false;
        std::int64_t applied = 0;
        for (const auto& p : parts) {
            if (p["owner"] != owner || p["ownerState"] != "live" || p["behind"] != 0 ||
                p["stalled"] != false)
                return false;
            applied += p["position"].get<std::int64_t>();
        }
        return applied >= messages;
    }

    PgTestDatabase write_;
    PgTestDatabase read_;
    KafkaTopic kafka_;
    ScratchDir logs_{"ordinal-projection-stall"};
    std::unique_ptr<KafkaTopology> topo_;
};

TEST_F(ProjectionStall, AStoppedProjectorsPartitionsAreStalledOnTheApiProcessUntilItRunsAgain) {
    OrdinalApi a(topo_->api().port());
    const auto sku = unique_sku();
    a.create_product(sku, 100, nullptr);
    Ack last;
    for (int i = 0; i < 6; ++i) last = a.create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(a.get("/v1/orders/" + last.order_id, last.token, 10000).status, 200);
    const std::string owner = projector_id();
    json parts = stall_partitions_until([&](const json& p) { return all_caught_up(p, owner, 7); });
    ASSERT_TRUE(all_caught_up(parts, owner, 7)) << parts.dump();
    std::int64_t applied = 0;
    for (const auto& p : parts) {
        EXPECT_EQ(p["busEnd"], p["position"]) << p.dump();
        EXPECT_TRUE(p["partition"].get<std::string>().rfind(kafka_.topic() + "/", 0) == 0);
        applied += p["position"].get<std::int64_t>();
    }
    EXPECT_GE(applied, 7) << "the product and six orders, one message each";
    const std::string first = parts[0]["partition"];
    // The gauge is the api process's watch task's (every heartbeat), not the status read's: on a
    // loaded machine the status showed the partition before the task had published its series
    // (read as -1), so it is waited for, as below.
    EXPECT_TRUE(stall_gauge_reaches(first, 0)) << stall_gauge(first);

    // Stopped while work waits: its heartbeat stops, so every partition it held is stalled.
    const std::size_t log_before = topo_->api().log().size();
    ASSERT_TRUE(topo_->projector(0).child()->stop());
    const auto stopped = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i) a.create_order(random_uuid(), {{sku, 1}});
    parts = stall_partitions_until([](const json& ps) {
        for (const auto& p : ps)
            if (p["stalled"] != true) return false;
        return !ps.empty();
    });
    const auto shown = std::chrono::steady_clock::now() - stopped;
    const bool gauge = stall_gauge_reaches(first, 1);
    // The console overview's lag (projection.behind): what waits over the partitions, from the
    // api process, while the projector is still stopped.
    const json held = a.admin_get("/v1/admin/status").json_body()["projection"];
    topo_->projector(0).child()->signal(SIGCONT);
    ASSERT_EQ(parts.size(), 6u) << parts.dump();
    std::int64_t waiting = 0;
    for (const auto& p : parts) {
        // The end as the relay's delivery reports tell: what waits is counted while the
        // projector is stopped.
        if (p["behind"].is_number_integer()) waiting += p["behind"].get<std::int64_t>();
        EXPECT_EQ(p["stalled"], true) << parts.dump();
        EXPECT_EQ(p["owner"], owner);
        EXPECT_EQ(p["ownerState"], "stale");
        EXPECT_NE(p["stalledReason"].get<std::string>().find("has not heartbeated"),
                  std::string::npos);
    }
    EXPECT_GE(waiting, 6) << parts.dump();
    std::int64_t held_sum = 0;
    for (const auto& p : held["partitions"])
        if (p["behind"].is_number_integer()) held_sum += p["behind"].get<std::int64_t>();
    ASSERT_TRUE(held["behind"].is_number_integer()) << held.dump();
    EXPECT_EQ(held["behind"], held_sum) << held.dump();
    EXPECT_GE(held_sum, 6) << held.dump();
    // The bound: --process-stale-ms, a heartbeat and the status's reads.
    EXPECT_LT(shown, kStallBound + 3s);
    EXPECT_TRUE(gauge) << "ordinal_projection_stalled on the api process";

    // Continued: it heartbeats, keeps or regains its partitions, applies what waited.
    parts = stall_partitions_until([&](const json& p) { return all_caught_up(p, owner, 13); }, 60s);
    ASSERT_TRUE(all_caught_up(parts, owner, 13)) << parts.dump();
    applied = 0;
    for (const auto& p : parts) applied += p["position"].get<std::int64_t>();
    EXPECT_GE(applied, 13);
    EXPECT_EQ(a.admin_get("/v1/admin/status").json_body()["projection"]["behind"], 0);
    EXPECT_TRUE(stall_gauge_reaches(first, 0));
    const std::string log = topo_->api().log().substr(log_before);
    EXPECT_EQ(stall_lines(log, "projection of " + first + " stalled"), 1u) << log;
    EXPECT_EQ(stall_lines(log, "projection of " + first + " moving again"), 1u) << log;
}

TEST_F(ProjectionStall, ALiveProjectorWhosePositionIsFrozenWhileMessagesWaitIsStalled) {
    OrdinalApi a(topo_->api().port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 100, nullptr);
    ASSERT_EQ(a.get("/v1/products/" + sku, put.token, 10000).status, 200);
    const std::string owner = projector_id();
    ASSERT_TRUE(all_caught_up(
        stall_partitions_until([&](const json& p) { return all_caught_up(p, owner, 1); }), owner,
        1));

    // A projection transaction first locks the product rows it will write: held here, the
    // projector's next delivery waits (its heartbeat goes on) with its position where it was.
    pg::Connection row = pg::Connection::open(read_.url());
    row.exec_script("BEGIN");
    row.exec("SELECT 1 FROM products_view WHERE sku = $1 FOR UPDATE", sku);
    const std::size_t log_before = topo_->api().log().size();
    const auto order = a.create_order(random_uuid(), {{sku, 1}});
    const auto placed = std::chrono::steady_clock::now();
    json parts = stall_partitions_until([](const json& ps) {
        for (const auto& p : ps)
            if (p["stalled"] == true) return true;
        return false;
    });
    const auto shown = std::chrono::steady_clock::now() - placed;
    json stalled;
    for (const auto& p : parts)
        if (p["stalled"] == true) stalled = p;
    ASSERT_TRUE(stalled.is_object()) << parts.dump();
    const std::string partition = stalled["partition"];
    EXPECT_EQ(stalled["owner"], owner);
    EXPECT_EQ(stalled["ownerState"], "live");
    EXPECT_EQ(stalled["behind"], 1) << stalled.dump();
    EXPECT_GT(stalled["positionMovedAgoMs"].get<std::int64_t>(), kStallBound.count());
    EXPECT_NE(stalled["stalledReason"].get<std::string>().find("has not moved"), std::string::npos)
        << stalled.dump();
    // Not before the bound (less a heartbeat: the wait counts from the last heartbeat that found
    // the partition caught up), and soon after it.
    EXPECT_GT(shown, kStallBound - 200ms);
    EXPECT_LT(shown, kStallBound + 3s);
    EXPECT_TRUE(stall_gauge_reaches(partition, 1));
    // The owner's /readyz: still ready (the rest flows), degraded, naming the partition.
    const auto ready = OrdinalApi(topo_->projector(0).port()).get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready;
    const json readiness = ready.json_body();
    EXPECT_EQ(readiness["status"], "degraded") << ready;
    bool named = false;
    for (const auto& c : readiness["components"])
        if (c["name"] == "projection" && c["degraded"] == true)
            named = c["detail"].get<std::string>().find(partition) != std::string::npos;
    EXPECT_TRUE(named) << ready << "\n" << parts.dump();

    row.exec_script("ROLLBACK");
    ASSERT_EQ(a.get("/v1/orders/" + order.order_id, order.token, 10000).status, 200);
    parts = stall_partitions_until([&](const json& p) { return all_caught_up(p, owner, 2); });
    EXPECT_TRUE(all_caught_up(parts, owner, 2)) << parts.dump();
    EXPECT_TRUE(stall_gauge_reaches(partition, 0));
    EXPECT_EQ(KafkaTopology::readiness(topo_->projector(0)), 200);
    EXPECT_EQ(OrdinalApi(topo_->projector(0).port()).get("/readyz").json_body()["status"], "ready");
    const std::string log = topo_->api().log().substr(log_before);
    EXPECT_EQ(stall_lines(log, "projection of " + partition + " stalled"), 1u) << log;
    EXPECT_EQ(stall_lines(log, "projection of " + partition + " moving again"), 1u) << log;
}

}  // namespace
}  // namespace ordinal::test
