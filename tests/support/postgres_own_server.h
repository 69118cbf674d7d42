#pragma once
// A PostgreSQL cluster of one test's own (tests/scripts/postgres_test_server.sh), for tests that
// stop and start the server: the shared one of the `postgres` fixture must not go down under other
// tests. Needs ORDINAL_PG_SCRIPT (the pg tier defines it).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "adapters/postgres/pg_connection.h"
#include "support/temp_dir.h"

namespace ordinal::test_support {

class OwnPostgresServer {
  public:
    // `settings` replaces the script's server settings (PG_SERVER_SETTINGS) when not empty.
    // `netns` and `host` put the server on a test host of the partition tests (netns_hosts.sh).
    explicit OwnPostgresServer(std::string settings = {}, std::string netns = {},
                               std::string host = {})
        : dir_(std::string(dir_root_.file("server"))),
          settings_(std::move(settings)),
          place_(netns.empty() ? std::string()
                               : "TEST_NETNS='" + netns + "' TEST_HOST='" + host + "' ") {
        // The server runs as another OS user when we are root: it must reach its directory.
        std::filesystem::permissions(dir_root_.path(), std::filesystem::perms::owner_all |
                                                           std::filesystem::perms::group_read |
                                                           std::filesystem::perms::group_exec |
                                                           std::filesystem::perms::others_read |
                                                           std::filesystem::perms::others_exec);
        if (script("start") != 0)
            throw std::runtime_error("cannot start a PostgreSQL server in " + dir_);
        std::ifstream in(dir_ + "/url");
        std::getline(in, url_);
    }
    ~OwnPostgresServer() { script("stop"); }
    OwnPostgresServer(const OwnPostgresServer&) = delete;
    OwnPostgresServer& operator=(const OwnPostgresServer&) = delete;

    const std::string& url() const { return url_; }
    bool down() { return script("down") == 0; }      // stopped, the cluster kept
    bool up() { return script("up") == 0; }          // started again on the same port
    bool crash() { return script("crash") == 0; }    // stopped as by a crash (immediate)
    bool freeze() { return script("freeze") == 0; }  // every server process SIGSTOPped: hung
    bool thaw() { return script("thaw") == 0; }      // SIGCONT: answering again

    // Creates another database on this server; returns its URL.
    std::string create_database(const std::string& name) const {
        pg::Connection admin = pg::Connection::open(url_);
        admin.exec_script("CREATE DATABASE " + name);
        return url_.substr(0, url_.rfind('/') + 1) + name;
    }

  private:
    int script(const std::string& command) const {
        // OWNER_PID (read at start): the script's watchdog stops the server should this process
        // end without the destructor.
        const std::string env =
            "OWNER_PID=" + std::to_string(::getpid()) + " " +
            (settings_.empty() ? std::string() : "PG_SERVER_SETTINGS='" + settings_ + "' ");
        const std::string line = place_ + env + "bash '" + ORDINAL_PG_SCRIPT + "' " + command +
                                 " '" + dir_ + "' >/dev/null";
        return std::system(line.c_str());
    }

    TempDir dir_root_{"ordinal-pg-own"};
    std::string dir_;
    std::string settings_;
    std::string place_;
    std::string url_;
};

}  // namespace ordinal::test_support
