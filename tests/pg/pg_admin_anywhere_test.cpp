// Admin actions and the deployment's picture from any process (issue 12), on PostgreSQL with the
// roles split: two api-only processes and one relay+projector process. A rebuild or retry asked
// of an api process is recorded in the read store, carried out once by the projector process,
// and followed from either api process; a rebuild whose projector is SIGKILLed mid-way is taken
// over by the next projector, and the read model is announced incomplete until then. A dead
// letter discarded through one api process is discarded by the projector and audited for all.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/postgres_stores.h"
#include "core/system_clock.h"
#include "support/ordinal_api.h"
#include "support/postgres_backend.h"
#include "support/process_runner.h"
#include "support/temp_dir.h"

namespace ordinal {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Heartbeats often and stale soon, so a takeover happens within seconds.
const std::vector<std::string> kFastRegistry{"--heartbeat-ms", "100", "--process-stale-ms", "1000"};

class PgAdminAnywhere : public ::testing::Test {
  protected:
    test::ServerProcess& start(const std::string& name, const std::string& roles) {
        std::vector<std::string> args{"--write-db",   write_db_.url(), "--read-db",
                                      read_db_.url(), "--roles",       roles};
        args.insert(args.end(), kFastRegistry.begin(), kFastRegistry.end());
        const std::string dir = logs_.path().string() + "/" + name;
        std::filesystem::create_directories(dir);
        procs_.push_back(
            std::make_unique<test::ServerProcess>(ORDINAL_BINARY, "", dir, std::move(args)));
        names_.push_back(name);
        procs_.back()->start();
        return *procs_.back();
    }
    void TearDown() override {
        if (HasFailure()) {
            for (std::size_t i = 0; i < procs_.size(); ++i)
                std::cerr << "---- " << names_[i] << " log ----\n" << procs_[i]->log() << "\n";
        }
        procs_.clear();  // before the databases are dropped
    }
    static std::string process_id(test::ServerProcess& p) {
        return test::OrdinalApi(p.port()).admin_get("/v1/admin/status").json_body()["processId"];
    }
    // Reads the request until `done(request)` or 30 s; the last one read.
    static json follow(test::OrdinalApi& api, std::int64_t id,
                       const std::function<bool(const json&)>& done) {
        json last;
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto r = api.admin_get("/v1/admin/requests/" + std::to_string(id));
            if (r.status == 200) {
                last = r.json_body();
                if (done(last)) return last;
            }
            std::this_thread::sleep_for(5ms);
        }
        return last;
    }
    // Reads the status from `api` until `done(status)` or `within`; the last one read.
    static json poll_status(test::OrdinalApi& api, const std::function<bool(const json&)>& done,
                            std::chrono::milliseconds within = 30s) {
        json last;
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto r = api.admin_get("/v1/admin/status");
            if (r.status == 200) {
                last = r.json_body();
                if (done(last)) return last;
            }
            std::this_thread::sleep_for(20ms);
        }
        return last;
    }
    static json local_partition(const json& status) {
        if (!status.is_object() || !status["projection"].is_object()) return json();
        for (const auto& p : status["projection"]["partitions"])
            if (p["partition"] == "local") return p;
        return json();
    }
    static std::size_t occurrences(const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    }
    static const json* component(const json& ready, const std::string& name) {
        for (const auto& c : ready["components"])
            if (c["name"] == name) return &c;
        return nullptr;
    }

    test_support::PgTestDatabase write_db_;
    test_support::PgTestDatabase read_db_;
    test_support::TempDir logs_{"ordinal-pg-admin"};
    std::vector<std::unique_ptr<test::ServerProcess>> procs_;
    std::vector<std::string> names_;
};

TEST_F(PgAdminAnywhere, RebuildAndRetryTakenByApiProcessesRunOnceOnTheProjector) {
    auto& api_a = start("api-a", "api");
    auto& api_b = start("api-b", "api");
    auto& worker = start("worker", "relay,projector");
    test::OrdinalApi a(api_a.port(), {}, 60s), b(api_b.port(), {}, 60s);
    const auto sku = test::unique_sku();
    const auto put = a.create_product(sku, 100, 50);
    std::vector<test::Ack> orders;
    for (int i = 0; i < 5; ++i) orders.push_back(b.create_order(test::random_uuid(), {{sku, 1}}));
    const auto stock = [&](test::OrdinalApi& api) {
        return api.must_read("/v1/products/" + sku, orders.back().token)["stock"];
    };
    ASSERT_EQ(stock(a), 45);

    // One picture from either api process: three live processes, in their roles.
    const json status = b.admin_get("/v1/admin/status").json_body();
    ASSERT_TRUE(status["processes"].is_array()) << status.dump();
    std::map<std::string, std::string> roles_of;
    for (const auto& p : status["processes"]) {
        EXPECT_EQ(p["state"], "live") << p.dump();
        std::string roles;
        for (const auto& r : p["roles"]) roles += (roles.empty() ? "" : ",") + r.get<std::string>();
        roles_of[p["id"]] = roles;
    }
    const std::string worker_id = process_id(worker);
    EXPECT_EQ(roles_of.size(), 3u) << status.dump();
    EXPECT_EQ(roles_of[worker_id], "relay,projector") << status.dump();
    EXPECT_EQ(roles_of[process_id(api_a)], "api");
    EXPECT_TRUE(status["outbox"].is_object()) << status.dump();

    // Two rebuilds asked at once of two api processes: one request, run once. The projector is
    // held (SIGSTOP) while both are asked, so neither can finish before the other is taken.
    worker.child()->signal(SIGSTOP);
    const auto first = a.admin_post("/v1/admin/projections/rebuild?wait=0");
    const auto second = b.admin_post("/v1/admin/projections/rebuild?wait=0");
    worker.child()->signal(SIGCONT);
    ASSERT_EQ(first.status, 202) << first;
    ASSERT_EQ(second.status, 202) << second;
    const std::int64_t id = first.json_body()["id"];
    EXPECT_EQ(second.json_body()["id"], id) << "the second is answered with the running one";
    EXPECT_EQ(first.header("Location").value_or(""), "/v1/admin/requests/" + std::to_string(id));
    const json done = follow(b, id, [](const json& r) { return r["state"] == "done"; });
    ASSERT_EQ(done["state"], "done") << done.dump();
    EXPECT_EQ(done["owner"], worker_id);
    EXPECT_EQ(done["attempts"], 1);
    EXPECT_EQ(done["requestedBy"], process_id(api_a));
    EXPECT_EQ(done["result"]["status"], "rebuilt");
    EXPECT_EQ(done["result"]["eventsReplayed"], 6);
    const auto metrics = test::OrdinalApi(worker.port()).get("/metrics").body;
    EXPECT_NE(metrics.find("ordinal_admin_requests_total{kind=\"rebuild\",result=\"done\"} 1\n"),
              std::string::npos)
        << metrics;
    EXPECT_EQ(stock(b), 45) << "the rebuilt model reads as before";

    // A rebuild asked and waited for: the outcome itself, as when it ran in the process asked.
    const auto waited = b.admin_post("/v1/admin/projections/rebuild");
    ASSERT_EQ(waited.status, 200) << waited;
    EXPECT_EQ(waited.json_body()["eventsReplayed"], 6);
    EXPECT_NE(waited.json_body()["status"], nullptr);

    // Dead-letter retry from an api process: planted letter, retried on the projector.
    {
        pg::Connection conn = pg::Connection::open(read_db_.url());
        conn.exec(
            "INSERT INTO dead_letters (partition, \"offset\", stream, version, event_type, "
            "payload, reason) VALUES ('local', 1, '', 0, '', 'garbage'::bytea, 'undecodable: x')");
    }
    const json letters = a.admin_get("/v1/admin/dead-letters").json_body()["deadLetters"];
    ASSERT_EQ(letters.size(), 1u);
    const std::string letter = std::to_string(letters[0]["id"].get<std::int64_t>());
    const auto retried = a.admin_post("/v1/admin/dead-letters/" + letter + "/retry");
    ASSERT_EQ(retried.status, 200) << retried;
    EXPECT_EQ(retried.json_body(),
              json::parse(R"({"retried":1,"applied":0,"remaining":1,"advanced":[]})"));
    const std::string retry_id = retried.header("Ordinal-Admin-Request").value_or("0");
    const json retry = b.admin_get("/v1/admin/requests/" + retry_id).json_body();
    EXPECT_EQ(retry["kind"], "retry_dead_letters") << retry.dump();
    EXPECT_EQ(retry["owner"], worker_id);
    EXPECT_EQ(retry["target"], letters[0]["id"]);
    const auto missing = b.admin_post("/v1/admin/dead-letters/999999/retry");
    EXPECT_EQ(missing.status, 404) << missing;
    EXPECT_EQ(missing.json_body()["error"], "not_found");
    EXPECT_EQ(b.admin_get("/v1/admin/requests/999999").status, 404);

    // Deployment-wide gauges from an api process: the dead letter and the live processes.
    const auto api_metrics = b.get("/metrics").body;
    EXPECT_NE(api_metrics.find("ordinal_projection_dead_letters 1\n"), std::string::npos)
        << api_metrics;
    EXPECT_NE(api_metrics.find("ordinal_deployment_processes{state=\"live\"} 3\n"),
              std::string::npos)
        << api_metrics;
    EXPECT_NE(api_metrics.find("ordinal_process_info{process=\"" + process_id(api_b) +
                               "\",roles=\"api\""),
              std::string::npos)
        << api_metrics;

    // A process that stops heartbeating is shown stale by the others.
    worker.kill9();
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline && state != "stale") {
        const json now = a.admin_get("/v1/admin/status").json_body();
        for (const auto& p : now["processes"])
            if (p["id"] == worker_id) state = p["state"];
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(state, "stale");
    EXPECT_NE(a.get("/metrics").body.find("ordinal_deployment_processes{state=\"stale\"} 1\n"),
              std::string::npos);
}

// Issue 12's stalled assignment on the in-process bus: its one partition, `local`, shown from an
// api-only process against the outbox's end, with its owner; the relay+projector process
// SIGSTOPped while commands wait makes it stalled (owner stale) in the status and in the api's
// gauge, with one log line, and SIGCONT clears it. Who publishes each outbox partition is shown
// too (the PostgreSQL lease).
TEST_F(PgAdminAnywhere, AStoppedProjectorsPartitionIsShownStalledByAnApiProcessUntilItRunsAgain) {
    auto& api = start("api", "api");
    auto& worker = start("worker", "relay,projector");
    test::OrdinalApi a(api.port(), {}, 60s);
    const std::string worker_id = process_id(worker);
    const auto sku = test::unique_sku();
    a.create_product(sku, 100, nullptr);
    const auto order = a.create_order(test::random_uuid(), {{sku, 1}});
    ASSERT_EQ(a.get("/v1/orders/" + order.order_id, order.token, 10000).status, 200);

    // Caught up: owned by the worker, at the outbox's end; every outbox partition its relay's.
    json status = poll_status(a, [&](const json& s) {
        const json p = local_partition(s);
        if (p.is_null() || p["owner"] != worker_id || p["behind"] != 0) return false;
        for (const auto& o : s["outbox"]["partitions"])
            if (o["owner"] != worker_id) return false;
        return true;
    });
    json local = local_partition(status);
    ASSERT_EQ(local["owner"], worker_id) << status.dump();
    EXPECT_EQ(local["ownerState"], "live");
    EXPECT_GE(local["position"].get<std::int64_t>(), 2);
    EXPECT_EQ(local["busEnd"], local["position"]);
    EXPECT_EQ(local["stalled"], false);
    EXPECT_TRUE(local["stalledReason"].is_null());
    EXPECT_GE(local["positionMovedAgoMs"].get<std::int64_t>(), 0);
    ASSERT_EQ(status["outbox"]["partitions"].size(), 16u) << status.dump();
    for (const auto& o : status["outbox"]["partitions"]) {
        EXPECT_EQ(o["owner"], worker_id) << status.dump();
        EXPECT_EQ(o["stalled"], false);
    }

    // Lines from here on (a heartbeat late on a loaded machine may have stalled it briefly
    // before, with its own pair of lines).
    const std::size_t log_before = api.log().size();
    ASSERT_TRUE(worker.child()->stop());
    const auto stopped = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) a.create_order(test::random_uuid(), {{sku, 1}});
    status = poll_status(a, [](const json& s) { return local_partition(s)["stalled"] == true; });
    const auto shown = std::chrono::steady_clock::now() - stopped;
    local = local_partition(status);
    bool gauge = false;  // the api process's own watch, from the stores
    for (int i = 0; i < 200 && !gauge; ++i) {
        gauge =
            a.get("/metrics").body.find("ordinal_projection_stalled{partition=\"local\"} 1\n") !=
            std::string::npos;
        if (!gauge) std::this_thread::sleep_for(20ms);
    }
    worker.child()->signal(SIGCONT);
    EXPECT_TRUE(gauge);
    ASSERT_EQ(local["stalled"], true) << status.dump();
    // The bound: --process-stale-ms (1000) plus a heartbeat and the status's own reads.
    EXPECT_LT(shown, 5s);
    EXPECT_EQ(local["ownerState"], "stale");
    EXPECT_EQ(local["behind"], 3) << status.dump();
    EXPECT_NE(local["stalledReason"].get<std::string>().find("has not heartbeated"),
              std::string::npos);
    EXPECT_EQ(status["outbox"]["partitions"][0]["stalled"], true) << status.dump();
    EXPECT_EQ(status["outbox"]["partitions"][0]["ownerState"], "stale");

    // Running again: it catches up and the stall is over, in the status, the gauge and the log.
    status = poll_status(a, [](const json& s) {
        const json p = local_partition(s);
        return p["stalled"] == false && p["behind"] == 0;
    });
    ASSERT_EQ(local_partition(status)["stalled"], false) << status.dump();
    EXPECT_EQ(local_partition(status)["position"], local["position"].get<std::int64_t>() + 3);
    bool cleared = false;
    for (int i = 0; i < 200 && !cleared; ++i) {
        cleared =
            a.get("/metrics").body.find("ordinal_projection_stalled{partition=\"local\"} 0\n") !=
            std::string::npos;
        if (!cleared) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(cleared) << a.get("/metrics").body;
    const std::string log = api.log().substr(log_before);
    EXPECT_EQ(occurrences(log, "projection of local stalled: its projector " + worker_id), 1u)
        << log;
    EXPECT_EQ(occurrences(log, "projection of local moving again"), 1u) << log;
}

TEST_F(PgAdminAnywhere, ARebuildWhoseProjectorIsKilledMidWayIsTakenOverAndAnnouncedMeanwhile) {
    auto& api = start("api", "api");
    start("worker-1", "relay,projector");
    test::OrdinalApi a(api.port(), {}, 60s);
    const auto sku = test::unique_sku();
    a.create_product(sku, 100, nullptr);
    const auto order = a.create_order(test::random_uuid(), {{sku, 2}});
    ASSERT_EQ(a.get("/v1/orders/" + order.order_id, order.token, 10000).status, 200);
    const std::string worker_1 = process_id(*procs_.back());

    // Every projection transaction of the PostgreSQL read store first takes the dead-letter lock
    // shared (pg_projection.cpp, kDeadLetterLockSpace); emptying the model does not. Holding it
    // exclusively stops the rebuild right after it emptied the model, at its first replayed
    // batch: the projector is then mid-way, deterministically. (Nothing else is waiting to be
    // projected: the order above was read back.)
    constexpr std::int32_t kDeadLetterLockSpace = 0x6f726444;
    pg::Connection lock = pg::Connection::open(read_db_.url());
    lock.exec("SELECT pg_advisory_lock($1::int, 0)", kDeadLetterLockSpace);
    const auto asked = a.admin_post("/v1/admin/projections/rebuild?wait=0");
    ASSERT_EQ(asked.status, 202) << asked;
    const std::int64_t id = asked.json_body()["id"];
    const json running = follow(a, id, [](const json& r) { return r["state"] == "running"; });
    ASSERT_EQ(running["owner"], worker_1) << running.dump();
    bool announced = false;
    for (int i = 0; i < 1000 && !announced; ++i) {
        const json ready = a.get("/readyz").json_body();
        const json* model = component(ready, "read_model");
        announced = model && (*model)["degraded"].get<bool>();
        if (!announced) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(announced) << "the emptied model is announced on the api process";

    procs_.back()->kill9();
    lock.exec("SELECT pg_advisory_unlock($1::int, 0)", kDeadLetterLockSpace);
    EXPECT_EQ(a.get("/v1/orders/" + order.order_id).status, 404) << "still the emptied model";
    EXPECT_EQ(a.admin_get("/v1/admin/requests/" + std::to_string(id)).json_body()["state"],
              "running")
        << "its owner is dead, not done";

    // The next projector takes it over once worker-1's heartbeat is stale, and starts again.
    auto& worker_2 = start("worker-2", "relay,projector");
    const std::string worker_2_id = process_id(worker_2);
    const json done = follow(a, id, [](const json& r) { return r["state"] == "done"; });
    ASSERT_EQ(done["state"], "done") << done.dump();
    EXPECT_EQ(done["owner"], worker_2_id);
    EXPECT_EQ(done["attempts"], 2);
    EXPECT_EQ(done["result"]["eventsReplayed"], 2);
    const json ready = a.get("/readyz").json_body();
    EXPECT_EQ(ready["status"], "ready") << ready.dump();
    const auto view = a.get("/v1/orders/" + order.order_id, order.token, 10000);
    ASSERT_EQ(view.status, 200) << view;
    EXPECT_EQ(view.json_body()["status"], "PLACED");
}

TEST_F(PgAdminAnywhere, ADiscardAskedOfAnApiProcessRunsOnTheProjectorAndIsAuditedForAll) {
    auto& api_a = start("api-a", "api");
    auto& api_b = start("api-b", "api");
    auto& worker = start("worker", "relay,projector");
    test::OrdinalApi a(api_a.port(), {}, 60s), b(api_b.port(), {}, 60s);
    {
        // Parked as a bus with poison (Kafka) would have left it.
        PostgresReadStoreOptions options;
        options.conninfo = read_db_.url();
        SystemClock clock;
        auto store = make_postgres_read_store(options, clock, projection_rules());
        ASSERT_TRUE(store) << store.error().message;
        DeadLetter d;
        d.position = BusPosition{"orders-0", 3};
        d.stream = "order/" + test::random_uuid();
        d.version = 1;
        d.event_type = "OrderPlaced";
        d.payload = "garbage";
        d.reason = "undecodable: planted by the test";
        ASSERT_TRUE((*store)->apply_delivery(Delivery{{}, {d}, BusPosition{"orders-0", 4}}, {}));
    }
    const json list =
        a.admin_get("/v1/admin/dead-letters?reason=planted&type=OrderPlaced").json_body();
    ASSERT_EQ(list["deadLetters"].size(), 1u) << list.dump();
    const std::string id = std::to_string(list["deadLetters"][0]["id"].get<std::int64_t>());

    const auto refused = a.admin_post("/v1/admin/dead-letters/" + id + "/discard", "{}");
    EXPECT_EQ(refused.status, 400) << refused;
    const auto done =
        a.admin_post("/v1/admin/dead-letters/" + id + "/discard", R"({"reason":"not ours"})");
    ASSERT_EQ(done.status, 200) << done;
    EXPECT_EQ(done.json_body()["reason"], "not ours");
    EXPECT_TRUE(b.admin_get("/v1/admin/dead-letters").json_body()["deadLetters"].empty());

    const json entries = b.admin_get("/v1/admin/audit").json_body()["entries"];
    ASSERT_TRUE(entries.is_array() && !entries.empty()) << entries.dump();
    const json& e = entries[0];
    EXPECT_EQ(e["action"], "discard_dead_letter") << e.dump();
    EXPECT_EQ(e["target"], "dead-letter/" + id);
    EXPECT_EQ(e["reason"], "not ours");
    EXPECT_EQ(e["outcome"], "done");
    EXPECT_EQ(e["process"], process_id(worker)) << "carried out by the projector";
    EXPECT_EQ(e["requestedBy"], process_id(api_a)) << "asked of an api process";
}

}  // namespace
}  // namespace ordinal
