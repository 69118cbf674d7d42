// The API's consistency gate in another process than the projector, on PostgreSQL: it learns of
// projection progress from LISTEN ordinal_projection, not from its poll. The fallback poll is set
// to 10 s here, so a token read that answers within a second or two was woken by a notification.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>

#include "adapters/postgres/pg_notifier.h"
#include "adapters/postgres/postgres_stores.h"
#include "support/http_client.h"
#include "support/postgres_backend.h"
#include "support/process_runner.h"
#include "support/temp_dir.h"
#include "support/test_uuid.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUser = "0190a1b2-0000-7000-8000-0000000000aa";

// A write and a read store for two processes, with a log folder for each ("api", "worker").
struct TwoProcesses {
    explicit TwoProcesses(const std::string& name) : logs(name) {
        std::filesystem::create_directories(logs.path() / "api");
        std::filesystem::create_directories(logs.path() / "worker");
    }
    // `args` followed by the store flags.
    std::vector<std::string> with_stores(std::vector<std::string> args) const {
        args.insert(args.end(), {"--write-db", write_db.url(), "--read-db", read_db.url()});
        return args;
    }
    test::ServerProcess process(const std::string& name, std::vector<std::string> args) const {
        return test::ServerProcess(ORDINAL_BINARY, "", logs.path().string() + "/" + name,
                                   with_stores(std::move(args)));
    }
    test_support::PgTestDatabase write_db;
    test_support::PgTestDatabase read_db;
    test_support::TempDir logs;
};

// Products sku-0 .. sku-(count - 1), stock unlimited.
void put_products(test::HttpClient& http, int count) {
    for (int i = 0; i < count; ++i) {
        auto put = http.request("PUT", "/v1/products/sku-" + std::to_string(i),
                                R"({"name":"Mug","currency":"EUR","priceMinor":100,"stock":null})",
                                {{"Idempotency-Key", test::random_uuid()}});
        ASSERT_EQ(put.status, 202) << put;
    }
}

std::string order_of(int product) {
    return std::string(R"({"userId":")") + kUser + R"(","currency":"EUR","items":[{"sku":"sku-)" +
           std::to_string(product) + R"(","qty":1}]})";
}

TEST(PgListenGate, ApiInAnotherProcessWakesOnProjectionNotifications) {
    test_support::PgTestDatabase write_db;
    test_support::PgTestDatabase read_db;
    test_support::TempDir logs{"ordinal-pg-listen"};
    const std::vector<std::string> stores{"--write-db", write_db.url(), "--read-db", read_db.url()};
    std::vector<std::string> api_args{"--roles", "api", "--gate-fallback-poll-ms", "10000"};
    api_args.insert(api_args.end(), stores.begin(), stores.end());
    test::ServerProcess api(ORDINAL_BINARY, "", logs.path().string(), api_args);
    api.start();
    std::unique_ptr<test::ChildProcess> worker;
    auto dump_logs = [&] {
        std::cerr << "---- api log ----\n" << api.log() << "\n";
        if (worker) std::cerr << "---- worker log ----\n" << worker->log() << "\n";
    };
    test::HttpClient http(api.port());

    auto put = http.request("PUT", "/v1/products/sku-1",
                            R"({"name":"Mug","currency":"EUR","priceMinor":100,"stock":null})",
                            {{"Idempotency-Key", test::random_uuid()}});
    ASSERT_EQ(put.status, 202) << put;
    const std::string order_body = std::string(R"({"userId":")") + kUser +
                                   R"(","currency":"EUR","items":[{"sku":"sku-1","qty":1}]})";
    auto placed =
        http.request("POST", "/v1/orders", order_body, {{"Idempotency-Key", test::random_uuid()}});
    ASSERT_EQ(placed.status, 202) << placed;
    const std::string first_order = placed.json_body().at("orderId");
    const std::string first_token = placed.json_body().at("consistencyToken");

    // Nothing projects yet: the read waits. Then the projector process starts.
    auto waiting = std::async(std::launch::async, [&] {
        test::HttpClient c(api.port(), "127.0.0.1", 15s);
        return c.get("/v1/orders/" + first_order,
                     {{"X-Consistency-Token", first_token}, {"X-Consistency-Wait-Ms", "9000"}});
    });
    std::this_thread::sleep_for(300ms);
    std::vector<std::string> worker_args{"serve", "--roles", "relay,projector", "--listen",
                                         "127.0.0.1:" + std::to_string(test::pick_free_port())};
    worker_args.insert(worker_args.end(), stores.begin(), stores.end());
    const auto worker_started = SteadyClock::now();
    worker = std::make_unique<test::ChildProcess>(ORDINAL_BINARY, worker_args,
                                                  logs.path().string() + "/worker.log");
    const auto first = waiting.get();
    const auto first_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - worker_started)
            .count();
    EXPECT_EQ(first.status, 200) << first;
    EXPECT_LT(first_ms, 5000) << "woken by the fallback poll, not by LISTEN";

    // Steady state: each read with a fresh token answers well under the fallback interval.
    std::int64_t slowest = 0;
    for (int i = 0; i < 10; ++i) {
        auto p = http.request("POST", "/v1/orders", order_body,
                              {{"Idempotency-Key", test::random_uuid()}});
        ASSERT_EQ(p.status, 202) << p;
        const auto t0 = SteadyClock::now();
        auto got =
            http.get("/v1/orders/" + std::string(p.json_body().at("orderId")),
                     {{"X-Consistency-Token", std::string(p.json_body().at("consistencyToken"))},
                      {"X-Consistency-Wait-Ms", "9000"}});
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count();
        EXPECT_EQ(got.status, 200) << got;
        slowest = std::max<std::int64_t>(slowest, ms);
    }
    EXPECT_LT(slowest, 2000);
    std::cout << "first read answered " << first_ms << " ms after the projector process started; "
              << "slowest steady-state token read " << slowest << " ms (fallback poll 10000 ms)\n";
    if (HasFailure()) dump_logs();
}

// A relay in a process that takes no commands is woken by the writers' NOTIFY ordinal_outbox,
// not by its idle poll: with the poll at 10 s, each command is still projected at once.
TEST(PgListenGate, ARelayInAnotherProcessWakesOnOutboxNotifications) {
    const TwoProcesses stores("ordinal-pg-outbox-listen");
    auto api = stores.process("api", {"--roles", "api"});
    api.start();
    auto worker =
        stores.process("worker", {"--roles", "relay,projector", "--relay-idle-poll-ms", "10000"});
    worker.start();
    std::this_thread::sleep_for(300ms);  // past the relay's first round

    test::HttpClient http(api.port());
    put_products(http, 1);
    if (HasFatalFailure()) return;
    for (int i = 0; i < 5; ++i) {
        auto p = http.request("POST", "/v1/orders", order_of(0),
                              {{"Idempotency-Key", test::random_uuid()}});
        ASSERT_EQ(p.status, 202) << p;
        auto got =
            http.get("/v1/orders/" + std::string(p.json_body().at("orderId")),
                     {{"X-Consistency-Token", std::string(p.json_body().at("consistencyToken"))},
                      {"X-Consistency-Wait-Ms", "3000"}});
        ASSERT_EQ(got.status, 200)
            << "order " << i << " waited for the relay's 10 s poll: " << got << "\n"
            << worker.log();
    }
}

// A process with a projector of its own still LISTENs: another process's projector may own the
// streams a token names. Two processes that both relay and project split the relay's outbox
// partitions (on Kafka, the topic's) between them, so a part of what a client places through one
// process is projected by the other; such a token read waited for its deadline and answered 503
// although the order had been projected within milliseconds. Here the other process is stopped
// while each read registers and resumed 300 ms later; orders on eight products make it all but
// certain (1 - 4^-8) that some of their streams fall in its partitions, and the test checks that it
// did relay some.
TEST(PgListenGate, AProcessWithAProjectorOfItsOwnWakesOnAnotherProcesssProjection) {
    const TwoProcesses stores("ordinal-pg-two-projectors");
    auto api = stores.process("api", {"--gate-fallback-poll-ms", "10000"});  // every role
    api.start();
    auto worker = stores.process("worker", {"--roles", "relay,projector"});
    worker.start();
    std::this_thread::sleep_for(2500ms);  // the relays' leases re-balance every second

    test::HttpClient http(api.port());
    constexpr int kOrders = 8;
    put_products(http, kOrders);
    if (HasFatalFailure()) return;
    std::int64_t slowest = 0;
    for (int i = 0; i < kOrders; ++i) {
        const std::string body = std::string(R"({"userId":")") + kUser +
                                 R"(","currency":"EUR","items":[{"sku":"sku-)" + std::to_string(i) +
                                 R"(","qty":1}]})";
        worker.child()->signal(SIGSTOP);
        auto p =
            http.request("POST", "/v1/orders", body, {{"Idempotency-Key", test::random_uuid()}});
        if (p.status != 202) worker.child()->signal(SIGCONT);
        ASSERT_EQ(p.status, 202) << p;
        const std::string order_id = p.json_body().at("orderId");
        const std::string token = p.json_body().at("consistencyToken");
        const auto t0 = SteadyClock::now();
        auto read = std::async(std::launch::async, [&] {
            test::HttpClient c(api.port(), "127.0.0.1", 15s);
            return c.get("/v1/orders/" + order_id,
                         {{"X-Consistency-Token", token}, {"X-Consistency-Wait-Ms", "8000"}});
        });
        std::this_thread::sleep_for(300ms);
        worker.child()->signal(SIGCONT);
        const auto got = read.get();
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count();
        ASSERT_EQ(got.status, 200) << "order " << i << " after " << ms << " ms: " << got;
        slowest = std::max<std::int64_t>(slowest, ms);
    }
    EXPECT_LT(slowest, 5000) << "a read was woken by the fallback poll, not by LISTEN";
    test::HttpClient worker_http(worker.port());
    const std::string metrics = worker_http.get("/metrics").body;
    const std::string name = "\nordinal_relay_events_published_total ";
    const auto at = metrics.find(name);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_GT(std::stod(metrics.substr(at + name.size())), 0)
        << "the other process relayed nothing: the test proved nothing";
    std::cout << "slowest token read " << slowest << " ms (fallback poll 10000 ms)\n";
}
// A writer notifies relays elsewhere only while some relay elsewhere may own a partition: a process
// whose relay owns every outbox partition wakes it directly and sends no NOTIFY ordinal_outbox
// (one transaction on the notifier's connection, and a wake-up of every listener, per batch).
// Once a second relay joins and takes partitions, the notices come back.
TEST(PgListenGate, OutboxNoticesGoOutOnlyWhileAnotherRelayMayOwnAPartition) {
    const TwoProcesses stores("ordinal-pg-outbox-notices");
    auto api = stores.process("api", {});
    api.start();
    std::atomic<int> notices{0};
    auto listener =
        start_postgres_listener(stores.write_db.url(), PgChannel::Outbox, [&] { ++notices; });
    test::HttpClient http(api.port());
    constexpr int kProducts = 8;
    put_products(http, kProducts);
    if (HasFatalFailure()) return;
    // Every order read back with its token: relayed (and so a relay round ran) before the next.
    const auto place_orders = [&] {
        for (int i = 0; i < kProducts; ++i) {
            const std::string body = std::string(R"({"userId":")") + kUser +
                                     R"(","currency":"EUR","items":[{"sku":"sku-)" +
                                     std::to_string(i) + R"(","qty":1}]})";
            auto p = http.request("POST", "/v1/orders", body,
                                  {{"Idempotency-Key", test::random_uuid()}});
            ASSERT_EQ(p.status, 202) << p;
            auto got = http.get(
                "/v1/orders/" + std::string(p.json_body().at("orderId")),
                {{"X-Consistency-Token", std::string(p.json_body().at("consistencyToken"))},
                 {"X-Consistency-Wait-Ms", "5000"}});
            ASSERT_EQ(got.status, 200) << got;
        }
    };
    place_orders();  // the products' events and the listener's first (connect) wake-up
    std::this_thread::sleep_for(500ms);
    notices = 0;
    place_orders();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(notices.load(), 0) << "notices while this process's relay owns every partition";

    auto worker = stores.process("worker", {"--roles", "relay,projector"});
    worker.start();
    std::this_thread::sleep_for(2500ms);  // the relays' leases re-balance every second
    notices = 0;
    place_orders();
    std::this_thread::sleep_for(500ms);
    EXPECT_GT(notices.load(), 0) << "no notice once another relay owns partitions";
}

// A listener skips the notifications its own process sent (their payload is its notify origin):
// the process's relay and gate are told directly, so each would only cost a wake-up and, for a
// gate with waiters, a read. Another process's notification still wakes it. A plain libpq session
// checks that the notifier did send, with this process's origin.
TEST(PgListenGate, AListenerSkipsItsOwnProcesssNotificationsAndHearsOthers) {
    test_support::PgTestDatabase db;
    PGconn* raw = PQconnectdb(db.url().c_str());
    ASSERT_EQ(PQstatus(raw), CONNECTION_OK) << PQerrorMessage(raw);
    PQclear(PQexec(raw, "LISTEN ordinal_outbox"));
    std::atomic<int> wakes{0};
    auto listener = start_postgres_listener(db.url(), PgChannel::Outbox, [&] { ++wakes; });
    const auto wait_for = [](const std::function<bool()>& done) {
        for (int i = 0; i < 250 && !done(); ++i) std::this_thread::sleep_for(20ms);
        return done();
    };
    ASSERT_TRUE(wait_for([&] { return wakes.load() > 0; })) << "no wake-up on connect";
    std::this_thread::sleep_for(200ms);
    wakes = 0;
    {
        pg::Notifier notifier(db.url(), "ordinal_outbox");
        for (int i = 0; i < 3; ++i) {
            notifier.signal();
            std::this_thread::sleep_for(100ms);
        }
    }
    int own = 0;
    ASSERT_TRUE(wait_for([&] {
        PQconsumeInput(raw);
        while (PGnotify* n = PQnotifies(raw)) {
            if (pg::notify_origin() == n->extra) ++own;
            PQfreemem(n);
        }
        return own >= 3;
    })) << own
        << " of 3 notifications seen by a plain session";
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(wakes.load(), 0) << "woken by its own process's notifications";

    PQclear(PQexec(raw, "NOTIFY ordinal_outbox, '1-2'"));  // as another process's notifier
    EXPECT_TRUE(wait_for([&] { return wakes.load() > 0; })) << "another process's notification";
    PQfinish(raw);
}

}  // namespace
}  // namespace ordinal
