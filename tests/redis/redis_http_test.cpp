// The whole service with `--cache redis://...` over real HTTP: duplicates answered, concurrent
// repeats and a flushed or dead Redis never produce a second effect (the database is
// authoritative).
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "app/service.h"
#include "app/settings.h"
#include "redis/redis_support.h"
#include "support/ordinal_api.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

using namespace std::chrono_literals;

class RedisService : public ::testing::Test {
  protected:
    void SetUp() override {
        redis_ = std::make_unique<PrivateRedis>();
        Settings s;
        s.listen = "127.0.0.1:0";
        s.data_dir = dir_.path();
        s.cache = redis_->url();
        // What is cached and answered from it is the subject here, not how fast: the service's
        // 5 ms per command fires on a loaded test machine (RedisCache.ConcurrentCallers… saw 49
        // timeouts in 1,600 commands), and a timeout is a miss the database answers instead.
        s.cache_timeout_ms = 2000;
        auto started = Service::start(s);
        ASSERT_TRUE(started) << started.error();
        service_ = std::move(*started);
        api_ = std::make_unique<OrdinalApi>(service_->port());
        sku_ = unique_sku();
        api_->create_product(sku_, 100, 100000);
        user_ = random_uuid();
    }
    void TearDown() override {
        api_.reset();
        if (service_) service_->stop();
        service_.reset();
        redis_.reset();
    }
    json body() { return order_body(user_, "EUR", {{sku_, 1}}); }
    std::uint64_t metric(const std::string& series) {
        const auto text = api_->get("/metrics").body;
        const auto at = text.find("\n" + series + " ");
        if (at == std::string::npos) return 0;
        return std::stoull(text.substr(at + series.size() + 2));
    }
    std::int64_t stock(const std::vector<std::string>& tokens) {
        return api_->must_read("/v1/products/" + sku_, join_tokens(tokens))["stock"];
    }
    std::size_t orders_of_user(const std::vector<std::string>& tokens) {
        const auto list = api_->must_read("/v1/users/" + user_ + "/orders", join_tokens(tokens));
        return list["orders"].size();
    }

    ScratchDir dir_;
    std::unique_ptr<PrivateRedis> redis_;
    std::unique_ptr<Service> service_;
    std::unique_ptr<OrdinalApi> api_;
    std::string sku_, user_;
};

TEST_F(RedisService, DuplicatesAreAnsweredFromRedis) {
    const auto key = random_uuid();
    const auto first = to_ack(api_->place_order(body(), key));
    ASSERT_EQ(first.status, 202) << first.body.dump();
    RawRedis raw(redis_->url());
    EXPECT_EQ(raw.command("EXISTS ordinal:idem:" + key), "1");
    const auto hits_before = metric("ordinal_idempotency_cache_hits_total");
    for (int i = 0; i < 3; ++i) {
        const auto d = to_ack(api_->place_order(body(), key));
        EXPECT_EQ(d.body["status"], "duplicate") << d.body.dump();
        EXPECT_EQ(d.order_id, first.order_id);
        EXPECT_EQ(d.event_id, first.event_id);
        EXPECT_EQ(d.token, first.token);
    }
    EXPECT_EQ(metric("ordinal_idempotency_cache_hits_total"), hits_before + 3);
    // The same key with another payload is still a reuse.
    const auto other = api_->place_order(order_body(user_, "EUR", {{sku_, 2}}), key);
    EXPECT_EQ(other.status, 409) << other.body;
    EXPECT_EQ(orders_of_user({first.token}), 1u);
}

TEST_F(RedisService, ParallelRepeatsAndAFlushStillMakeOneOrderPerKey) {
    // 50 parallel repeats of one key.
    const auto key = random_uuid();
    std::mutex mu;
    std::set<std::string> order_ids;
    std::vector<std::string> tokens;
    int failures = 0;
    auto fire = [&](const std::string& k) {
        OrdinalApi api(service_->port());
        const auto a = to_ack(api.place_order(body(), k));
        std::lock_guard lock(mu);
        if (a.status != 202 && a.status != 200) ++failures;
        order_ids.insert(k + "=" + a.order_id);
        tokens.push_back(a.token);
    };
    {
        std::vector<std::thread> ts;
        for (int i = 0; i < 50; ++i) ts.emplace_back(fire, key);
        for (auto& t : ts) t.join();
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(order_ids.size(), 1u);

    // 20 keys, each sent 5 times by parallel clients; Redis is flushed half-way.
    std::vector<std::string> keys;
    for (int i = 0; i < 20; ++i) keys.push_back(random_uuid());
    RawRedis raw(redis_->url());
    for (int round = 0; round < 5; ++round) {
        if (round == 2) raw.command("FLUSHALL");
        std::vector<std::thread> ts;
        for (const auto& k : keys) ts.emplace_back(fire, k);
        for (auto& t : ts) t.join();
    }
    EXPECT_EQ(failures, 0);
    std::set<std::string> keys_seen;
    for (const auto& entry : order_ids) keys_seen.insert(entry.substr(0, entry.find('=')));
    EXPECT_EQ(order_ids.size(), 21u) << "a key answered two different orders";
    EXPECT_EQ(keys_seen.size(), 21u);
    // One effect per key: 21 units reserved (the orders list is paginated; the stock is not).
    EXPECT_EQ(stock(tokens), 100000 - 21);
}

TEST_F(RedisService, RedisDownKeepsServingAndStaysReady) {
    const auto key = random_uuid();
    const auto first = to_ack(api_->place_order(body(), key));
    ASSERT_EQ(first.status, 202);
    redis_->down();
    const auto d = to_ack(api_->place_order(body(), key));
    EXPECT_EQ(d.body["status"], "duplicate") << d.body.dump();  // answered by the database
    EXPECT_EQ(d.order_id, first.order_id);
    const auto fresh = to_ack(api_->place_order(body(), random_uuid()));
    EXPECT_EQ(fresh.status, 202);
    EXPECT_GT(metric("ordinal_idempotency_cache_errors_total"), 0u);

    const auto ready = api_->get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    const auto j = ready.json_body();
    bool seen = false;
    for (const auto& c : j["components"]) {
        if (c["name"] == "idempotency_cache") {
            seen = true;
            EXPECT_EQ(c["detail"], "redis unreachable, commands go to the database") << j.dump();
        }
    }
    EXPECT_TRUE(seen) << j.dump();

    redis_->up();
    EXPECT_TRUE(eventually(
        [&] {
            const auto r = api_->get("/readyz").json_body();
            for (const auto& c : r["components"]) {
                if (c["name"] == "idempotency_cache") return c["detail"] == "ok";
            }
            return false;
        },
        5s));
    EXPECT_EQ(orders_of_user({first.token, fresh.token}), 2u);
}

}  // namespace
}  // namespace ordinal::test
