#pragma once
// Helpers of the Redis tier: the fixture server's URL, private servers for fault tests
// (support/private_redis.h), and a raw hiredis client to plant values and inspect keys.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "adapters/redis/redis_idempotency_cache.h"
#include "support/private_redis.h"

namespace ordinal::test {

// The URL of the CTest fixture's server; throws (the test fails, never skips) without it.
inline std::string fixture_redis_url() {
    std::ifstream in(ORDINAL_REDIS_URL_FILE);
    std::string url;
    if (!(in >> url) || url.empty()) {
        throw std::runtime_error("no Redis test server: " ORDINAL_REDIS_URL_FILE
                                 " is missing (run through ctest, fixture `redis`)");
    }
    return url;
}

// A plain hiredis connection for the tests' own commands.
class RawRedis {
  public:
    explicit RawRedis(const std::string& url) {
        auto a = parse_redis_url(url);
        if (!a) throw std::runtime_error(a.error());
        c_ = redisConnect(a->host.c_str(), a->port);
        if (!c_ || c_->err) throw std::runtime_error("cannot connect to " + url);
        if (a->db != 0) command("SELECT " + std::to_string(a->db));
    }
    ~RawRedis() {
        if (c_) redisFree(c_);
    }
    RawRedis(const RawRedis&) = delete;
    RawRedis& operator=(const RawRedis&) = delete;

    // Runs a command given as words (no spaces inside words); returns the integer or string reply.
    std::string command(const std::string& line) {
        redisReply* r = static_cast<redisReply*>(redisCommand(c_, line.c_str()));
        if (!r) throw std::runtime_error("redis command failed: " + line);
        std::string out;
        if (r->type == REDIS_REPLY_INTEGER)
            out = std::to_string(r->integer);
        else if (r->str)
            out.assign(r->str, r->len);
        freeReplyObject(r);
        return out;
    }
    void set_raw(const std::string& key, const std::string& value) {
        redisReply* r = static_cast<redisReply*>(
            redisCommand(c_, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
        if (!r) throw std::runtime_error("SET failed");
        freeReplyObject(r);
    }

  private:
    redisContext* c_ = nullptr;
};

}  // namespace ordinal::test
