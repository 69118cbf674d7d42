// A PostgreSQL restart mid-load: commands in flight and during the outage fail cleanly with
// StoreError{Unavailable} (nothing half-written), and the stores reconnect by themselves once the
// server is back. Runs its own cluster (the shared one must not restart under other tests).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "support/postgres_backend.h"
#include "support/postgres_own_server.h"

namespace ordinal {
namespace {

using contract::FixedClock;
using contract::kT0;
using namespace std::chrono_literals;

const std::string kUser = "0190a1b2-0000-7000-8000-0000000000aa";

CommandOutcome submit(WriteStore& store, CommandRequest request) {
    std::promise<CommandOutcome> promise;
    auto future = promise.get_future();
    store.submit(std::move(request),
                 [&promise](CommandOutcome o) { promise.set_value(std::move(o)); });
    return future.get();
}

std::string order_id(int i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0190a1b2-0000-7000-8000-%012d", i);
    return buf;
}

TEST(PgRestart, CommandsFailCleanlyWhileTheServerIsDownAndSucceedAfterwards) {
    test_support::OwnPostgresServer server;
    ASSERT_FALSE(server.url().empty());
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    PostgresWriteStoreOptions options;
    options.conninfo = server.url();
    auto opened = make_postgres_write_store(options, clock, command_rules(clock, ids));
    ASSERT_TRUE(opened) << opened.error().message;
    WriteStore& store = **opened;
    PostgresReadStoreOptions read_options;
    read_options.conninfo = server.url();
    auto read_opened = make_postgres_read_store(read_options, clock, projection_rules());
    ASSERT_TRUE(read_opened) << read_opened.error().message;
    ReadStore& read = **read_opened;

    ASSERT_TRUE(std::holds_alternative<Acknowledgement>(
        submit(store, contract::upsert_request(ids.new_uuid_v7(), "SKU-1", std::nullopt))));

    std::atomic<bool> stop{false};
    std::atomic<int> next{0}, accepted{0}, unavailable{0}, other{0};
    std::mutex mu;
    std::map<std::string, std::string> other_messages;
    std::vector<std::thread> load;
    for (int t = 0; t < 8; ++t) {
        load.emplace_back([&] {
            while (!stop.load()) {
                const int i = next++;
                CommandOutcome o = submit(
                    store,
                    contract::place_request(ids.new_uuid_v7(), order_id(i), kUser, {{"SKU-1", 1}}));
                if (std::holds_alternative<Acknowledgement>(o)) {
                    ++accepted;
                } else if (auto* e = std::get_if<StoreError>(&o);
                           e && e->kind == StoreError::Kind::Unavailable) {
                    ++unavailable;
                    std::this_thread::sleep_for(5ms);
                } else {
                    ++other;
                    std::lock_guard lock(mu);
                    if (auto* se = std::get_if<StoreError>(&o)) other_messages[se->message] = "";
                }
            }
        });
    }
    std::this_thread::sleep_for(500ms);
    const int before = accepted.load();
    EXPECT_GT(before, 0);

    ASSERT_TRUE(server.down());
    std::this_thread::sleep_for(700ms);
    const int unavailable_while_down = unavailable.load();
    EXPECT_GT(unavailable_while_down, 0);
    // Port calls answer values too.
    auto pending = store.fetch_pending(10);
    ASSERT_FALSE(pending);
    EXPECT_EQ(pending.error().kind, StoreError::Kind::Unavailable);
    auto product = read.get_product("SKU-1");
    ASSERT_FALSE(product);
    EXPECT_EQ(product.error().kind, StoreError::Kind::Unavailable);
    EXPECT_FALSE(store.check_ready());

    ASSERT_TRUE(server.up());
    const int accepted_at_restart = accepted.load();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (accepted.load() < accepted_at_restart + 50 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    stop = true;
    for (auto& t : load) t.join();

    EXPECT_GE(accepted.load(), accepted_at_restart + 50) << "the store did not recover";
    EXPECT_EQ(other.load(), 0);
    for (const auto& [m, _] : other_messages) ADD_FAILURE() << m;
    EXPECT_TRUE(store.check_ready());
    EXPECT_TRUE(read.check_ready());
    EXPECT_TRUE(read.get_product("SKU-1"));

    // Nothing half-written: every order row has exactly its one event and idempotency record, and
    // the product's reserved stock is the number of orders. (Commands whose COMMIT was cut off
    // may have committed after all; they are in the counts too.)
    pg::Connection conn = pg::Connection::open(server.url());
    pg::Result r = conn.exec(
        "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM events WHERE type = "
        "'OrderPlaced'), "
        "(SELECT COUNT(*) FROM idempotency) - 1, (SELECT reserved FROM products WHERE sku = "
        "'SKU-1')");
    const std::int64_t orders = r.int64(0, 0);
    EXPECT_EQ(r.int64(0, 1), orders);
    EXPECT_EQ(r.int64(0, 2), orders);
    EXPECT_EQ(r.int64(0, 3), orders);
    EXPECT_GE(orders, accepted.load());
    EXPECT_LE(orders, accepted.load() + unavailable.load());
}

}  // namespace
}  // namespace ordinal
