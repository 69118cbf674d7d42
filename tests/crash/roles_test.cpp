// Roles in separate processes (`ordinal serve --roles api` and `--roles relay,projector` on one
// data directory): the API's gate learns projection progress from the read store, and a
// relay/projector process killed at any point leaves every event applied exactly once in effect.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/http_expect.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

class SeparateRoles : public ::testing::Test {
  protected:
    void SetUp() override {
        api_ = std::make_unique<ServerProcess>(
            ORDINAL_BINARY, data_.path(), logs_.path(),
            std::vector<std::string>{"--roles", "api", "--heartbeat-ms", "100",
                                     "--process-stale-ms", "1000"});
    }
    void TearDown() override {
        if (HasFailure()) {
            std::cerr << "---- api log ----\n" << api_->log() << "\n";
            if (worker_) std::cerr << "---- worker log ----\n" << worker_->log() << "\n";
        }
        worker_.reset();
        api_.reset();
    }
    void start_worker() {
        worker_ = std::make_unique<ChildProcess>(
            ORDINAL_BINARY,
            std::vector<std::string>{"serve", "--roles", "relay,projector", "--data-dir",
                                     data_.path(), "--listen",
                                     "127.0.0.1:" + std::to_string(pick_free_port()),
                                     "--heartbeat-ms", "100", "--process-stale-ms", "1000"},
            logs_.path() + "/worker-" + std::to_string(++worker_starts_) + ".log");
    }
    void kill_worker() {
        worker_->signal(SIGKILL);
        ASSERT_TRUE(worker_->wait_exit(std::chrono::seconds(10)).has_value());
    }

    ScratchDir data_{"ordinal-roles-data"};
    ScratchDir logs_{"ordinal-roles-logs"};
    std::unique_ptr<ServerProcess> api_;
    std::unique_ptr<ChildProcess> worker_;
    int worker_starts_ = 0;
};

TEST_F(SeparateRoles, GateFollowsAProjectorInAnotherProcess) {
    ASSERT_NO_THROW(api_->start());
    OrdinalApi a(api_->port());
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 100, 10);
    const auto order = a.create_order(random_uuid(), {{sku, 2}});
    // Nothing projects yet: the gate must say so rather than answer stale data.
    const auto early = a.get("/v1/orders/" + order.order_id, order.token, 300);
    EXPECT_TRUE(IsError(early, 503, "consistency_timeout"));
    EXPECT_TRUE(early.header("Retry-After").has_value()) << early;

    start_worker();
    const auto r = a.get("/v1/orders/" + order.order_id, order.token, 10000);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json_body()["status"], "PLACED");
    EXPECT_EQ(a.must_read("/v1/products/" + sku, join_tokens({put.token, order.token}))["stock"],
              8);

    // Read-your-writes across processes, command after command.
    for (int i = 0; i < 20; ++i) {
        const auto o = a.create_order(random_uuid(), {{sku, 1}});  // cancelled below: stock stays 8
        const auto v = a.get("/v1/orders/" + o.order_id, o.token, 5000);
        ASSERT_EQ(v.status, 200) << "iteration " << i << ": " << v;
        const auto c = a.must_command("cancel", o.order_id, json{{"reason", "r"}});
        const auto vc = a.get("/v1/orders/" + o.order_id, c.token, 5000);
        ASSERT_EQ(vc.status, 200) << vc;
        EXPECT_EQ(vc.json_body()["status"], "CANCELLED");
    }
}

TEST_F(SeparateRoles, KillingTheProjectorProcessRepeatedlyLosesAndDoublesNothing) {
    ASSERT_NO_THROW(api_->start());
    start_worker();
    constexpr std::int64_t kStock = 100000;
    std::vector<std::string> skus, product_tokens;
    std::vector<std::string> users;
    OrdinalApi admin(api_->port());
    for (int i = 0; i < 3; ++i) {
        skus.push_back(unique_sku("ROLE" + std::to_string(i)));
        product_tokens.push_back(admin.create_product(skus.back(), 10, kStock).token);
    }
    for (int i = 0; i < 4; ++i) users.push_back(random_uuid());

    struct Placed {
        std::string order_id, user, token;
        Items items;
        bool cancelled = false;
    };
    std::mutex mu;
    std::vector<Placed> placed;
    std::vector<std::string> problems;
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
        pool.emplace_back([&, t] {
            OrdinalApi a(api_->port(), {}, std::chrono::seconds(15));
            auto& rng = test_rng();
            for (int n = 0; !stop.load(); ++n) {
                Placed p;
                p.user = users[static_cast<std::size_t>(t)];
                p.items = {{skus[rng() % skus.size()], static_cast<std::int64_t>(1 + rng() % 3)}};
                try {
                    const auto r = a.place_order(order_body(p.user, "EUR", p.items), random_uuid());
                    if (r.status != 202) {
                        std::lock_guard lock(mu);
                        problems.push_back("place: " + r.describe());
                        continue;
                    }
                    p.order_id = to_ack(r).order_id;
                    p.token = to_ack(r).token;
                    if (n % 4 == 3) {
                        const auto c = a.cancel(p.order_id, json{{"reason", "r"}}, random_uuid());
                        if (c.status != 202) {
                            std::lock_guard lock(mu);
                            problems.push_back("cancel: " + c.describe());
                        } else {
                            p.cancelled = true;
                            p.token = to_ack(c).token;
                        }
                    }
                    std::lock_guard lock(mu);
                    placed.push_back(p);
                } catch (const std::exception& e) {
                    std::lock_guard lock(mu);
                    problems.push_back(std::string("exception: ") + e.what());
                }
            }
        });
    }
    // Kill and restart the relay/projector process under the load.
    for (int k = 0; k < 6; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250 + test_rng()() % 250));
        kill_worker();
        start_worker();
    }
    stop = true;
    for (auto& t : pool) t.join();
    for (const auto& p : problems) ADD_FAILURE() << p;
    ASSERT_GT(placed.size(), 20u);

    OrdinalApi a(api_->port(), {}, std::chrono::seconds(15));
    std::map<std::string, std::int64_t> reserved;
    std::map<std::string, std::set<std::string>> by_user;
    int bad = 0;
    for (const auto& p : placed) {
        const auto v = a.get("/v1/orders/" + p.order_id, p.token, 10000);
        if (v.status != 200 || v.json_body()["status"] != (p.cancelled ? "CANCELLED" : "PLACED") ||
            v.json_body()["version"] != (p.cancelled ? 2 : 1)) {
            if (++bad < 10) ADD_FAILURE() << "order " << p.order_id << ": " << v;
        }
        if (!p.cancelled) reserved[p.items[0].first] += p.items[0].second;
        by_user[p.user].insert(p.order_id);
    }
    EXPECT_EQ(bad, 0);
    for (std::size_t i = 0; i < skus.size(); ++i) {
        const auto view = a.must_read("/v1/products/" + skus[i], product_tokens[i]);
        EXPECT_EQ(kStock - view["stock"].get<std::int64_t>(), reserved[skus[i]]) << skus[i];
    }
    for (const auto& user : users) {
        std::vector<std::string> listed;
        std::string cursor;
        for (int page = 0; page < 1000; ++page) {
            std::string target = "/v1/users/" + user + "/orders?limit=100";
            if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
            const auto b = a.must_read(target);
            for (const auto& o : b["orders"]) listed.push_back(o["orderId"]);
            if (!b.contains("nextCursor") || b["nextCursor"].is_null()) break;
            cursor = b["nextCursor"];
        }
        const std::set<std::string> unique(listed.begin(), listed.end());
        EXPECT_EQ(unique.size(), listed.size()) << "an order listed twice for " << user;
        EXPECT_EQ(unique, by_user[user]);
    }
    std::cout << placed.size() << " orders through 6 projector kills\n";
}

// Admin requests on SQLite, api and projector in separate processes on one data directory: the
// api process records them, the projector process runs them, and both show in the status.
TEST_F(SeparateRoles, AdminRequestsTakenByTheApiRunInTheProjectorProcess) {
    ASSERT_NO_THROW(api_->start());
    start_worker();
    OrdinalApi a(api_->port(), {}, std::chrono::seconds(60));
    const auto sku = unique_sku();
    const auto put = a.create_product(sku, 100, 10);
    ASSERT_EQ(a.get("/v1/products/" + sku, put.token, 10000).status, 200);

    const auto rebuilt = a.admin_post("/v1/admin/projections/rebuild");
    ASSERT_EQ(rebuilt.status, 200) << rebuilt;
    EXPECT_EQ(rebuilt.json_body()["eventsReplayed"], 1);
    const std::string id = rebuilt.header("Ordinal-Admin-Request").value_or("0");
    const json request = a.admin_get("/v1/admin/requests/" + id).json_body();
    EXPECT_EQ(request["state"], "done") << request.dump();
    const json status = a.admin_get("/v1/admin/status").json_body();
    EXPECT_NE(request["owner"], status["processId"]) << "run by the projector process, not the api";
    ASSERT_EQ(status["processes"].size(), 2u) << status.dump();
    std::string worker_id;
    for (const auto& p : status["processes"]) {
        EXPECT_EQ(p["state"], "live") << p.dump();
        if (p["id"] != status["processId"]) worker_id = p["id"];
    }
    EXPECT_EQ(request["owner"], worker_id);
    const auto retry = a.admin_post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.json_body(),
              json::parse(R"({"retried":0,"applied":0,"remaining":0,"advanced":[]})"));

    // No projector left: a request waits, queued, and the dead one is shown stale.
    kill_worker();
    const auto queued = a.admin_post("/v1/admin/projections/rebuild?wait=1");
    ASSERT_EQ(queued.status, 202) << queued;
    EXPECT_EQ(queued.json_body()["state"], "queued");
    std::string state;
    json last;
    for (int i = 0; i < 300 && state != "stale"; ++i) {
        last = a.admin_get("/v1/admin/status").json_body();
        for (const auto& p : last["processes"])
            if (p["id"] == worker_id) state = p["state"];
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(state, "stale") << worker_id << " in " << last.dump();
    // A projector that comes back takes it.
    start_worker();
    const auto done = a.admin_post("/v1/admin/projections/rebuild");
    ASSERT_EQ(done.status, 200) << done;
    EXPECT_EQ(done.header("Ordinal-Admin-Request"), queued.header("Ordinal-Admin-Request"))
        << "the queued rebuild answers the second request";
}

}  // namespace
}  // namespace ordinal::test
