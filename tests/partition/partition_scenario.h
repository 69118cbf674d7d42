#pragma once
// The shape of every partition scenario: test hosts of the test's own (support/test_hosts.h), a
// PostgreSQL cluster on host "db" holding the write and read databases (the read database on a
// cluster of its own on host "rdb" when the scenario names that host), `ordinal serve` processes
// placed on hosts, client load through an api process in the test's own namespace (host "root",
// so the clients reach it on loopback whatever is cut), and the fault campaign's two judges at
// the end (support/fault_campaign.h: every acknowledged order read back exactly as acknowledged,
// exactly once in its user's list, stock exact, then `ordinal verify` clean with nothing behind).
// Timings a scenario measures are printed as `measured: …` lines (docs/guarantees.md quotes them).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_outbox_lease.h"
#include "support/fault_campaign.h"
#include "support/postgres_own_server.h"
#include "support/test_hosts.h"

namespace ordinal::test {

// Commits wait for their WAL write; fsync may stay off (the machine does not crash here).
inline const std::string kPartitionPostgres =
    "-c fsync=off -c synchronous_commit=on -c full_page_writes=off -c max_connections=200";

class PartitionScenario : public FaultScenario {
  protected:
    using Ms = std::chrono::milliseconds;

    explicit PartitionScenario(std::vector<std::string> hosts) : hosts_(with_db(std::move(hosts))) {
        process_logs_ = [this] {
            std::string out;
            for (auto& [name, p] : processes_) out += "---- " + name + " ----\n" + p->log() + "\n";
            return out;
        };
    }

    // `ordinal serve --roles ROLES` on `host` ("root": the test's own namespace, on loopback)
    // with both stores and `extra` flags; healthy when this returns.
    ServerProcess& serve(const std::string& name, const std::string& host, const std::string& roles,
                         std::vector<std::string> extra = {}) {
        const std::string dir = logs_.path() + "/" + name;
        std::filesystem::create_directories(dir);
        std::vector<std::string> args{"--roles", roles};
        const auto& stores = served_store_args_.empty() ? store_args_ : served_store_args_;
        args.insert(args.end(), stores.begin(), stores.end());
        args.insert(args.end(), extra.begin(), extra.end());
        auto p = std::make_unique<ServerProcess>(ORDINAL_BINARY, std::string(), dir, args);
        if (host != "root") p->place(hosts_.launcher(host), hosts_.address(host));
        p->start();
        auto& slot = processes_[name];
        slot = std::move(p);
        return *slot;
    }

    // Outbox partitions held now, by the address of the relay host holding them (pg_locks, seen
    // from the server: a session the server has not dropped yet still counts).
    std::map<std::string, int> partition_holders() {
        if (!monitor_.healthy()) monitor_ = pg::Connection::open(write_db_);
        pg::Result r = monitor_.exec(
            "SELECT host(a.client_addr), COUNT(*) FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid::bigint = $1 GROUP BY 1",
            static_cast<std::int64_t>(pg::kPartitionLockSpace));
        std::map<std::string, int> out;
        for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)] = static_cast<int>(r.int64(i, 1));
        return out;
    }
    // The server processes (sessions) holding outbox partitions for the relay on `host`.
    std::set<std::int64_t> lease_sessions(const std::string& host) {
        if (!monitor_.healthy()) monitor_ = pg::Connection::open(write_db_);
        pg::Result r = monitor_.exec(
            "SELECT DISTINCT l.pid::bigint FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid::bigint = $1 AND host(a.client_addr) = $2",
            static_cast<std::int64_t>(pg::kPartitionLockSpace), hosts_.address(host));
        std::set<std::int64_t> out;
        for (int i = 0; i < r.rows(); ++i) out.insert(r.int64(i, 0));
        return out;
    }
    int partitions_on(const std::string& host) {
        const auto held = partition_holders();
        const auto it = held.find(hosts_.address(host));
        return it == held.end() ? 0 : it->second;
    }

    // Whether `order` (of `product`) reads back with both their tokens within 60 s; `status` is
    // the last answer's.
    static bool reads_back(OrdinalApi& a, const Ack& product, const Ack& order, int& status) {
        const std::string token = join_tokens({product.token, order.token});
        return eventually(
            [&] {
                status = a.get("/v1/orders/" + order.stream_id, token, 2000).status;
                return status == 200;
            },
            std::chrono::seconds(60), Ms(50));
    }

    static void measured(const std::string& what, Clock::duration d) {
        std::cout << "measured: " << what << " " << std::chrono::duration_cast<Ms>(d).count()
                  << " ms" << std::endl;
    }
    static long long ms_since(Clock::time_point t) {
        return std::chrono::duration_cast<Ms>(Clock::now() - t).count();
    }

    TestHosts hosts_;
    test_support::OwnPostgresServer pg_{kPartitionPostgres, hosts_.netns("db"),
                                        hosts_.address("db")};
    const std::string write_db_ = pg_.create_database("ordinal_write");
    std::unique_ptr<test_support::OwnPostgresServer> read_pg_ =
        hosts_.has("rdb") ? std::make_unique<test_support::OwnPostgresServer>(
                                kPartitionPostgres, hosts_.netns("rdb"), hosts_.address("rdb"))
                          : nullptr;
    const std::string read_db_ = (read_pg_ ? *read_pg_ : pg_).create_database("ordinal_read");
    const std::vector<std::string> store_args_{"--write-db", write_db_, "--read-db", read_db_};
    // The stores as the served processes reach them, when not directly (store_args_ stay the
    // judges'): the degraded-link scenario routes them through a relay of its own.
    std::vector<std::string> served_store_args_;
    // Stopped (SIGKILL) before the cluster and the hosts go.
    std::map<std::string, std::unique_ptr<ServerProcess>> processes_;

  private:
    static std::vector<std::string> with_db(std::vector<std::string> hosts) {
        hosts.insert(hosts.begin(), "db");
        return hosts;
    }
    pg::Connection monitor_;
};

}  // namespace ordinal::test
