#pragma once
// A redis-server of one test's own (tests/scripts/redis_test_server.sh), for tests that stop it or
// flush it: the shared one of the `redis` fixture must not change under other tests. Needs
// ORDINAL_REDIS_SCRIPT.
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "support/scratch_dir.h"

namespace ordinal::test {

// A redis-server of the test's own (so stopping or flushing it disturbs no other test).
class PrivateRedis {
  public:
    // `netns` and `host` put the server on a test host of the partition tests (netns_hosts.sh).
    explicit PrivateRedis(std::string netns = {}, std::string host = {})
        : dir_("ordinal-redis"),
          place_(netns.empty() ? std::string()
                               : "TEST_NETNS='" + netns + "' TEST_HOST='" + host + "' ") {
        run("start");
    }
    ~PrivateRedis() {
        std::system(("bash " ORDINAL_REDIS_SCRIPT " stop " + dir_.path() + "/srv").c_str());
    }
    PrivateRedis(const PrivateRedis&) = delete;
    PrivateRedis& operator=(const PrivateRedis&) = delete;

    std::string url() const {
        std::ifstream in(dir_.path() + "/srv/url");
        std::string u;
        in >> u;
        return u;
    }
    void down() { run("down"); }
    void up() { run("up"); }

  private:
    void run(const char* cmd) {
        const std::string c =
            place_ + "bash " ORDINAL_REDIS_SCRIPT " " + cmd + " " + dir_.path() + "/srv >/dev/null";
        if (std::system(c.c_str()) != 0)
            throw std::runtime_error(std::string("redis_test_server.sh ") + cmd + " failed");
    }
    ScratchDir dir_;
    std::string place_;
};

}  // namespace ordinal::test
