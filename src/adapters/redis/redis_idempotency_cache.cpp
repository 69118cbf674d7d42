#include "adapters/redis/redis_idempotency_cache.h"

#include <hiredis/hiredis.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <string_view>
#include <vector>

#include "domain/thread_annotations.h"

namespace ordinal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kKeyPrefix = "ordinal:idem:";
constexpr std::string_view kFormat = "o1";

bool parse_int(std::string_view s, std::int64_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

void put_field(std::string& out, std::string_view f) {
    out += std::to_string(f.size());
    out += ':';
    out += f;
}

// Reads one "<len>:<bytes>" field from the front of `in`.
bool take_field(std::string_view& in, std::string_view& field) {
    const auto colon = in.find(':');
    if (colon == std::string_view::npos || colon > 10) return false;
    std::int64_t len = 0;
    if (!parse_int(in.substr(0, colon), len) || len < 0) return false;
    in.remove_prefix(colon + 1);
    if (static_cast<std::uint64_t>(len) > in.size()) return false;
    field = in.substr(0, static_cast<std::size_t>(len));
    in.remove_prefix(static_cast<std::size_t>(len));
    return true;
}

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
    return tv;
}

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct Metrics {
    explicit Metrics(MetricsRegistry& m)
        : hits(m.counter("ordinal_idempotency_cache_hits_total",
                         "Idempotency cache lookups answered from Redis")),
          misses(m.counter("ordinal_idempotency_cache_misses_total",
                           "Idempotency cache lookups not answered (absent, or an error)")),
          errors(m.counter("ordinal_idempotency_cache_errors_total",
                           "Idempotency cache failures (Redis down, timeout, garbage reply)")),
          get_latency(m.histogram("ordinal_idempotency_cache_seconds",
                                  "Idempotency cache call latency", {{"op", "get"}})),
          put_latency(m.histogram("ordinal_idempotency_cache_seconds",
                                  "Idempotency cache call latency", {{"op", "put"}})) {}
    Counter& hits;
    Counter& misses;
    Counter& errors;
    Histogram& get_latency;
    Histogram& put_latency;
};

class RedisCache final : public RedisIdempotencyCache {
  public:
    RedisCache(RedisCacheOptions o, RedisAddress a)
        : opts_(std::move(o)),
          addr_(std::move(a)),
          own_metrics_(opts_.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
          m_(opts_.metrics ? *opts_.metrics : *own_metrics_),
          backoff_(opts_.backoff) {}

    ~RedisCache() override {
        for (auto* c : idle_) redisFree(c);
    }

    std::optional<IdempotencyRecord> get(const std::string& key) override {
        const auto t0 = Clock::now();
        auto result = lookup(key);
        m_.get_latency.observe(seconds_since(t0));
        (result ? m_.hits : m_.misses).inc();
        return result;
    }

    void put(const IdempotencyRecord& record) override {
        const auto t0 = Clock::now();
        try {
            const std::string key = std::string(kKeyPrefix) + record.key;
            const std::string value = encode_idempotency_record(record);
            const std::string ttl = std::to_string(opts_.ttl.count());
            Reply r = command([&](redisContext* c) {
                return redisCommand(c, "SET %b %b EX %s", key.data(), key.size(), value.data(),
                                    value.size(), ttl.c_str());
            });
            if (r && !(r->type == REDIS_REPLY_STATUS)) m_.errors.inc();
        } catch (...) {
            m_.errors.inc();
        }
        m_.put_latency.observe(seconds_since(t0));
    }

    // A readiness probe, not a command: it tries whatever the backoff, and gives Redis
    // probe_timeout to connect and answer. With the command's 5 ms and the backoff, /readyz said
    // "unreachable" on a loaded machine while Redis was fine: one command (or this PING) not
    // answered within 5 ms marks Redis down for the backoff (RedisPartition, at load 9). A PING
    // answered marks Redis up again, as a command would.
    bool reachable() override {
        try {
            redisContext* c = nullptr;
            {
                std::lock_guard lock(mu_);
                if (!idle_.empty()) {
                    c = idle_.back();
                    idle_.pop_back();
                }
            }
            if (!c) c = connect(opts_.probe_timeout);
            if (!c) return false;
            if (redisSetTimeout(c, to_timeval(opts_.probe_timeout)) != REDIS_OK) {
                redisFree(c);
                return false;
            }
            Reply r(static_cast<redisReply*>(redisCommand(c, "PING")));
            if (!r || c->err || r->type != REDIS_REPLY_STATUS ||
                redisSetTimeout(c, to_timeval(opts_.timeout)) != REDIS_OK) {
                redisFree(c);
                return false;
            }
            {
                std::lock_guard lock(mu_);
                up_ = true;
                backoff_ = opts_.backoff;
            }
            release(c);
            return true;
        } catch (...) {
            return false;
        }
    }

  private:
    static double seconds_since(Clock::time_point t0) {
        return std::chrono::duration<double>(Clock::now() - t0).count();
    }

    std::optional<IdempotencyRecord> lookup(const std::string& key) {
        try {
            const std::string rkey = std::string(kKeyPrefix) + key;
            Reply r = command([&](redisContext* c) {
                return redisCommand(c, "GET %b", rkey.data(), rkey.size());
            });
            if (!r) return std::nullopt;  // counted by command()
            if (r->type == REDIS_REPLY_NIL) return std::nullopt;
            if (r->type != REDIS_REPLY_STRING) {
                m_.errors.inc();
                return std::nullopt;
            }
            auto rec = decode_idempotency_record(key, std::string(r->str, r->len));
            if (!rec) m_.errors.inc();
            return rec;
        } catch (...) {
            m_.errors.inc();
            return std::nullopt;
        }
    }

    // Runs one command on a pooled connection. Null (an error counted) when no connection could be
    // had or the connection failed; the failed connection is dropped. Other replies are returned.
    template <class F>
    Reply command(F&& send) {
        redisContext* c = acquire();
        if (!c) {
            m_.errors.inc();
            return nullptr;
        }
        Reply r(static_cast<redisReply*>(send(c)));
        if (!r || c->err) {
            // Timeout, reset, EOF: the connection may have a reply in flight, so it is dropped.
            redisFree(c);
            connection_failed();
            m_.errors.inc();
            return nullptr;
        }
        release(c);
        return r;
    }

    redisContext* acquire() {
        {
            std::lock_guard lock(mu_);
            if (!idle_.empty()) {
                redisContext* c = idle_.back();
                idle_.pop_back();
                return c;
            }
            if (!up_) {
                // Down: one thread at a time probes, and only once the backoff has passed.
                if (connecting_ || Clock::now() < retry_at_) return nullptr;
                connecting_ = true;
            }
        }
        redisContext* c = connect(opts_.connect_timeout);
        std::lock_guard lock(mu_);
        connecting_ = false;
        if (c) {
            up_ = true;
            backoff_ = opts_.backoff;
        } else {
            mark_down_locked();
        }
        return c;
    }

    redisContext* connect(std::chrono::milliseconds timeout) {
        redisContext* c =
            redisConnectWithTimeout(addr_.host.c_str(), addr_.port, to_timeval(timeout));
        if (!c) return nullptr;
        // The command timeout bounds every call; TCP keepalive (hiredis: probes after 15 s idle)
        // also lets the kernel close an idle pooled connection whose host went away, instead
        // of the pool keeping a half-open socket until its next use.
        if (c->err || redisSetTimeout(c, to_timeval(opts_.timeout)) != REDIS_OK ||
            redisEnableKeepAlive(c) != REDIS_OK) {
            redisFree(c);
            return nullptr;
        }
        if (addr_.db != 0) {
            Reply r(static_cast<redisReply*>(redisCommand(c, "SELECT %d", addr_.db)));
            if (!r || c->err || r->type != REDIS_REPLY_STATUS) {
                redisFree(c);
                return nullptr;
            }
        }
        return c;
    }

    void release(redisContext* c) {
        std::lock_guard lock(mu_);
        if (idle_.size() < opts_.max_idle_connections) {
            idle_.push_back(c);
            return;
        }
        redisFree(c);
    }

    void connection_failed() {
        std::lock_guard lock(mu_);
        // The other idle connections went to the same server: most likely dead too.
        for (auto* c : idle_) redisFree(c);
        idle_.clear();
        mark_down_locked();
    }

    void mark_down_locked() {
        if (up_) backoff_ = opts_.backoff;
        up_ = false;
        retry_at_ = Clock::now() + backoff_;
        backoff_ = std::min(backoff_ * 2, opts_.max_backoff);
    }

    const RedisCacheOptions opts_;
    const RedisAddress addr_;
    std::unique_ptr<MetricsRegistry> own_metrics_;
    Metrics m_;

    std::mutex mu_;
    std::vector<redisContext*> idle_ GUARDED_BY(mu_);
    bool up_ GUARDED_BY(mu_) = true;  // optimistic until the first failure
    bool connecting_ GUARDED_BY(mu_) = false;
    Clock::time_point retry_at_ GUARDED_BY(mu_){};
    std::chrono::milliseconds backoff_ GUARDED_BY(mu_);
};

}  // namespace

Expected<RedisAddress, std::string> parse_redis_url(const std::string& url) {
    constexpr std::string_view scheme = "redis://";
    if (url.rfind(scheme, 0) != 0) return unexpected("not a redis:// URL: '" + url + "'");
    std::string_view rest = std::string_view(url).substr(scheme.size());
    RedisAddress a;
    const auto slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view db = rest.substr(slash + 1);
        std::int64_t n = 0;
        if (!db.empty()) {
            if (!parse_int(db, n) || n < 0 || n > 1000000)
                return unexpected("bad database number in '" + url + "'");
            a.db = static_cast<int>(n);
        }
    }
    if (hostport.find('@') != std::string_view::npos) {
        return unexpected(std::string("redis:// URLs with credentials are not supported"));
    }
    const auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
        std::int64_t p = 0;
        if (!parse_int(hostport.substr(colon + 1), p) || p <= 0 || p > 65535) {
            return unexpected("bad port in '" + url + "'");
        }
        a.port = static_cast<int>(p);
        hostport = hostport.substr(0, colon);
    }
    if (hostport.empty()) return unexpected("no host in '" + url + "'");
    a.host = std::string(hostport);
    return a;
}

std::string encode_idempotency_record(const IdempotencyRecord& r) {
    std::string out(kFormat);
    out += '|';
    put_field(out, r.key);
    put_field(out, r.fingerprint);
    put_field(out, r.command_type);
    put_field(out, r.ack.event_id);
    put_field(out, stream_type_name(r.ack.stream.type));
    put_field(out, r.ack.stream.id);
    put_field(out, std::to_string(r.ack.version));
    put_field(out, r.ack.consistency_token);
    put_field(out, std::to_string(r.created_unix_ms));
    return out;
}

std::optional<IdempotencyRecord> decode_idempotency_record(const std::string& key,
                                                           const std::string& value) {
    std::string_view in(value);
    if (in.substr(0, kFormat.size() + 1) != std::string(kFormat) + "|") return std::nullopt;
    in.remove_prefix(kFormat.size() + 1);
    std::string_view f[9];
    for (auto& x : f) {
        if (!take_field(in, x)) return std::nullopt;
    }
    if (!in.empty() || f[0] != key) return std::nullopt;
    IdempotencyRecord r;
    r.key = std::string(f[0]);
    r.fingerprint = std::string(f[1]);
    r.command_type = std::string(f[2]);
    r.ack.duplicate = false;
    r.ack.event_id = std::string(f[3]);
    auto type = parse_stream_type(f[4]);
    if (!type) return std::nullopt;
    r.ack.stream.type = *type;
    r.ack.stream.id = std::string(f[5]);
    if (!parse_int(f[6], r.ack.version) || r.ack.version <= 0) return std::nullopt;
    r.ack.consistency_token = std::string(f[7]);
    if (!parse_int(f[8], r.created_unix_ms)) return std::nullopt;
    if (r.fingerprint.empty() || r.command_type.empty() || r.ack.event_id.empty() ||
        r.ack.stream.id.empty()) {
        return std::nullopt;
    }
    return r;
}

Expected<std::unique_ptr<RedisIdempotencyCache>, std::string> make_redis_idempotency_cache(
    RedisCacheOptions options) {
    auto addr = parse_redis_url(options.url);
    if (!addr) return unexpected(addr.error());
    if (options.timeout.count() <= 0 || options.ttl.count() <= 0) {
        return unexpected(std::string("redis cache: timeout and ttl must be positive"));
    }
    std::unique_ptr<RedisIdempotencyCache> cache =
        std::make_unique<RedisCache>(std::move(options), std::move(*addr));
    return cache;
}

}  // namespace ordinal
