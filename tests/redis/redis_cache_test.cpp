// The Redis idempotency cache adapter against a real redis-server: round trip, TTL, garbage,
// and Redis going away and coming back.
#include <chrono>
#include <thread>

#include "redis/redis_support.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

using namespace std::chrono_literals;

IdempotencyRecord sample(const std::string& key) {
    IdempotencyRecord r;
    r.key = key;
    r.fingerprint = "place_order|fp:with|pipes\nand newline";
    r.command_type = "place_order";
    r.ack.event_id = random_uuid();
    r.ack.stream = StreamKey{StreamType::Order, random_uuid()};
    r.ack.version = 3;
    r.ack.consistency_token = "tok-abc_123";
    r.created_unix_ms = 1700000000123;
    return r;
}

std::uint64_t counter(MetricsRegistry& m, const char* name) {
    return m.counter(name, "").value();
}

// The tests of what the cache stores and counts wait as long as Redis takes: the service's 5 ms per
// command (a slow Redis is a miss) fires on a loaded test machine (seen: 49 timeouts in 1,600
// commands of 8 threads during make test). Those of a dead Redis keep the service's default.
constexpr std::chrono::milliseconds kPatient{2000};

std::unique_ptr<RedisIdempotencyCache> open_cache(
    const std::string& url, MetricsRegistry& m, std::chrono::milliseconds timeout,
    std::chrono::seconds ttl = std::chrono::hours(24)) {
    RedisCacheOptions o;
    o.url = url;
    o.ttl = ttl;
    o.timeout = timeout;
    o.metrics = &m;
    auto c = make_redis_idempotency_cache(o);
    if (!c) throw std::runtime_error(c.error());
    return std::move(*c);
}

TEST(RedisCacheCodec, RoundTripsAndRejectsGarbage) {
    const auto r = sample(random_uuid());
    const auto enc = encode_idempotency_record(r);
    auto back = decode_idempotency_record(r.key, enc);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->fingerprint, r.fingerprint);
    EXPECT_EQ(back->ack.stream, r.ack.stream);
    EXPECT_FALSE(decode_idempotency_record("other-key", enc));
    EXPECT_FALSE(decode_idempotency_record(r.key, enc.substr(0, enc.size() - 1)));
    EXPECT_FALSE(decode_idempotency_record(r.key, enc + "x"));
    EXPECT_FALSE(decode_idempotency_record(r.key, ""));
    EXPECT_FALSE(decode_idempotency_record(r.key, "o1|99999999999:x"));
}

TEST(RedisCacheUrl, Parses) {
    auto a = parse_redis_url("redis://cache.local:6380/2");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "cache.local");
    EXPECT_EQ(a->port, 6380);
    EXPECT_EQ(a->db, 2);
    auto d = parse_redis_url("redis://h");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port, 6379);
    EXPECT_EQ(d->db, 0);
    EXPECT_FALSE(parse_redis_url("redis://h:0/1"));
    EXPECT_FALSE(parse_redis_url("redis://h:1/x"));
    EXPECT_FALSE(parse_redis_url("http://h:1"));
}

TEST(RedisCache, PutThenGetRoundTripsWithTtl) {
    MetricsRegistry m;
    const auto url = fixture_redis_url();
    auto cache = open_cache(url, m, kPatient, std::chrono::seconds(3600));
    const auto key = random_uuid();
    EXPECT_FALSE(cache->get(key));
    const auto rec = sample(key);
    cache->put(rec);
    auto got = cache->get(key);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->key, rec.key);
    EXPECT_EQ(got->fingerprint, rec.fingerprint);
    EXPECT_EQ(got->command_type, rec.command_type);
    EXPECT_EQ(got->ack.event_id, rec.ack.event_id);
    EXPECT_EQ(got->ack.stream, rec.ack.stream);
    EXPECT_EQ(got->ack.version, rec.ack.version);
    EXPECT_EQ(got->ack.consistency_token, rec.ack.consistency_token);
    EXPECT_EQ(got->created_unix_ms, rec.created_unix_ms);
    EXPECT_FALSE(got->ack.duplicate);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_hits_total"), 1u);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_misses_total"), 1u);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_errors_total"), 0u);

    RawRedis raw(url);
    const auto ttl = std::stoll(raw.command("TTL ordinal:idem:" + key));
    EXPECT_GT(ttl, 3500);
    EXPECT_LE(ttl, 3600);
    EXPECT_NE(m.render_prometheus().find("ordinal_idempotency_cache_seconds_count{op=\"get\"} 2"),
              std::string::npos)
        << m.render_prometheus();
}

TEST(RedisCache, GarbageUnderAKeyIsAMissAndAnError) {
    MetricsRegistry m;
    const auto url = fixture_redis_url();
    auto cache = open_cache(url, m, kPatient);
    RawRedis raw(url);
    const auto k1 = random_uuid(), k2 = random_uuid(), k3 = random_uuid();
    raw.set_raw("ordinal:idem:" + k1, "not a record \x01\xff");
    raw.command("LPUSH ordinal:idem:" + k2 + " x");  // the wrong type: Redis answers an error
    raw.set_raw("ordinal:idem:" + k3,
                encode_idempotency_record(sample(random_uuid())));  // another key's
    EXPECT_FALSE(cache->get(k1));
    EXPECT_FALSE(cache->get(k2));
    EXPECT_FALSE(cache->get(k3));
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_errors_total"), 3u);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_misses_total"), 3u);
    // The connection stays usable.
    cache->put(sample(k1));
    EXPECT_TRUE(cache->get(k1));
    EXPECT_TRUE(cache->reachable());
}

TEST(RedisCache, ConcurrentCallersShareThePool) {
    MetricsRegistry m;
    auto cache = open_cache(fixture_redis_url(), m, kPatient);
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                const auto k = random_uuid();
                cache->put(sample(k));
                auto g = cache->get(k);
                if (!g || g->key != k) ++bad;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_errors_total"), 0u);
}

TEST(RedisCache, RedisDownIsAFastMissAndItReconnectsByItself) {
    PrivateRedis redis;
    MetricsRegistry m;
    auto cache = open_cache(redis.url(), m, RedisCacheOptions{}.timeout);
    const auto key = random_uuid();
    cache->put(sample(key));
    ASSERT_TRUE(cache->get(key));
    EXPECT_TRUE(cache->reachable());

    redis.down();
    const auto errors_before = counter(m, "ordinal_idempotency_cache_errors_total");
    auto slowest = 0us;
    for (int i = 0; i < 200; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_FALSE(cache->get(key));
        cache->put(sample(random_uuid()));
        slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - t0));
    }
    EXPECT_LT(slowest, 50ms) << "a dead Redis must cost a miss, not a wait";
    EXPECT_GE(counter(m, "ordinal_idempotency_cache_errors_total"), errors_before + 400);
    EXPECT_FALSE(cache->reachable());

    redis.up();  // empty again: no persistence
    const auto key2 = random_uuid();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    bool back = false;
    while (!back && std::chrono::steady_clock::now() < deadline) {
        cache->put(sample(key2));
        back = cache->get(key2).has_value();
        if (!back) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(back) << "the cache did not reconnect within 5 s";
    EXPECT_TRUE(cache->reachable());
}

TEST(RedisCache, UnreachableFromTheStartIsOnlyMisses) {
    MetricsRegistry m;
    // A port nothing listens on (the private server was stopped).
    std::string url;
    {
        PrivateRedis r;
        url = r.url();
    }
    auto cache = open_cache(url, m, RedisCacheOptions{}.timeout);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(cache->get(random_uuid()));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    EXPECT_EQ(counter(m, "ordinal_idempotency_cache_errors_total"), 100u);
    EXPECT_FALSE(cache->reachable());
}

}  // namespace
}  // namespace ordinal::test
