#pragma once
// The Redis idempotency cache (hiredis, used only inside this folder). An optimisation only: every
// failure (Redis down, slow, garbage under a key) is a miss counted as an error, and the write
// store's unique key stays authoritative.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "domain/expected.h"
#include "ports/command_types.h"
#include "ports/idempotency_cache.h"
#include "ports/metrics.h"

namespace ordinal {

struct RedisCacheOptions {
    std::string url;  // redis://host[:port][/db]
    std::chrono::seconds ttl = std::chrono::hours(24);
    std::chrono::milliseconds timeout{5};           // per command
    std::chrono::milliseconds connect_timeout{50};  // per connection attempt
    // reachable() (the /readyz and status check): to connect and to answer a PING. A probe, not
    // on a command's path, so it can wait for a loaded machine; /readyz bounds its checks (3 s).
    std::chrono::milliseconds probe_timeout{500};
    // After a failure no new connection is tried for this long (doubling up to max_backoff), so a
    // dead Redis costs a miss, not a connect timeout, per command.
    std::chrono::milliseconds backoff{50};
    std::chrono::milliseconds max_backoff{1000};
    std::size_t max_idle_connections = 16;
    MetricsRegistry* metrics = nullptr;  // ordinal_idempotency_cache_* series; none when null
};

class RedisIdempotencyCache : public IdempotencyCache {
  public:
    // Whether Redis answers a PING now (within probe_timeout, whatever the commands' backoff).
    virtual bool reachable() = 0;
};

struct RedisAddress {
    std::string host;
    int port = 6379;
    int db = 0;
};
Expected<RedisAddress, std::string> parse_redis_url(const std::string& url);

// The value stored under "ordinal:idem:<key>" (exposed for tests).
std::string encode_idempotency_record(const IdempotencyRecord& r);
std::optional<IdempotencyRecord> decode_idempotency_record(const std::string& key,
                                                           const std::string& value);

// Fails only on a malformed URL; never connects here (Redis may come up later).
Expected<std::unique_ptr<RedisIdempotencyCache>, std::string> make_redis_idempotency_cache(
    RedisCacheOptions options);

}  // namespace ordinal
