// The Redis idempotency cache cut off (host "cache") under load: a miss is safe (the write store's
// unique key decides), so commands keep being accepted with a bounded extra latency, `/readyz`
// stays 200 and says Redis is unreachable, and the cache is used again once the link is back.
#include <algorithm>

#include "partition/partition_scenario.h"
#include "support/private_redis.h"

namespace ordinal::test {
namespace {

class RedisPartition : public PartitionScenario {
  protected:
    RedisPartition() : PartitionScenario({"cache", "node"}) {}

    void SetUp() override {
        ASSERT_NO_THROW(serve("api", "root", "api", {"--cache", redis_.url()}));
        api_port_ = processes_["api"]->port();
        ASSERT_NO_THROW(serve("node", "node", "relay,projector"));
    }

    // `n` orders one after another (bounded: n commands, each with a 30 s client timeout): the
    // latencies sorted, and how many were not accepted.
    std::pair<std::vector<double>, int> timed_orders(OrdinalApi& a, const std::string& sku, int n) {
        std::vector<double> ms;
        int failed = 0;
        for (int i = 0; i < n; ++i) {
            const auto start = Clock::now();
            const auto r =
                a.place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
            failed += r.status == 202 ? 0 : 1;
        }
        std::sort(ms.begin(), ms.end());
        return {ms, failed};
    }
    static double pct(const std::vector<double>& sorted, double p) {
        return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
    }

    std::string cache_detail() {
        HttpClient c(api_port_, "127.0.0.1", std::chrono::seconds(10));
        const auto r = c.get("/readyz");
        EXPECT_EQ(r.status, 200) << r.body;
        const json body = json::parse(r.body);
        for (const auto& comp : body["components"]) {
            if (comp["name"] == "idempotency_cache") return comp["detail"];
        }
        return "(no cache component)";
    }

    PrivateRedis redis_{hosts_.netns("cache"), hosts_.address("cache")};
};

TEST_F(RedisPartition, CutOffCacheIsAMissWithBoundedLatencyAndReadyzSaysSo) {
    run_rounds(
        1,
        [&](int) {
            OrdinalApi a(api_port_, {}, std::chrono::seconds(30));
            const auto sku = unique_sku("LAT");
            a.create_product(sku, 100, 100000);
            EXPECT_EQ(cache_detail(), "ok");
            const auto [before, failed_before] = timed_orders(a, sku, 200);
            hosts_.cut("cache");
            const auto [during, failed_during] = timed_orders(a, sku, 200);
            EXPECT_EQ(failed_during, 0) << "orders refused while the cache was away";
            EXPECT_EQ(failed_before, 0);
            std::cout << "measured: order latency, cache linked: p50 " << pct(before, 0.5)
                      << " ms, p99 " << pct(before, 0.99) << " ms, max " << before.back()
                      << " ms; cache cut off: p50 " << pct(during, 0.5) << " ms, p99 "
                      << pct(during, 0.99) << " ms, max " << during.back() << " ms" << std::endl;
            // A dead Redis costs a command at most its 5 ms timeout plus one 50 ms connect
            // attempt per backoff period; the bound leaves room for a loaded machine.
            EXPECT_LT(during.back(), 1000.0);
            EXPECT_EQ(cache_detail(), "redis unreachable, commands go to the database");
            hosts_.heal("cache");
            const auto healed = Clock::now();
            EXPECT_TRUE(eventually([&] { return cache_detail() == "ok"; }, std::chrono::seconds(20),
                                   Ms(50)));
            measured("cache healed: /readyz said ok again after", Clock::now() - healed);
        },
        store_args_, 50);
}

}  // namespace
}  // namespace ordinal::test
