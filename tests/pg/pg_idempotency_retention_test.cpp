// Idempotency retention on PostgreSQL: records older than the window are deleted in batches by
// one leader, newer ones stay, the event log is untouched, and a command re-sent after its record
// expired is a new command.
#include "adapters/postgres/pg_idempotency_retention.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "core/system_clock.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;
using contract::FixedClock;
using contract::kT0;

constexpr std::int64_t kDayMs = 24 * 3600 * 1000LL;

CommandOutcome submit(WriteStore& store, CommandRequest request) {
    std::promise<CommandOutcome> p;
    store.submit(std::move(request), [&p](CommandOutcome o) { p.set_value(std::move(o)); });
    return p.get_future().get();
}

Acknowledgement accept(WriteStore& store, CommandRequest request) {
    auto o = submit(store, std::move(request));
    if (auto* ack = std::get_if<Acknowledgement>(&o)) return *ack;
    ADD_FAILURE() << "command not accepted";
    return {};
}

std::unique_ptr<WriteStore> open_store(const std::string& url, const Clock& clock,
                                       IdGenerator& ids) {
    PostgresWriteStoreOptions options;
    options.conninfo = url;
    options.idempotency_retention = 7 * 24h;
    options.retention_interval = 100ms;
    auto store = make_postgres_write_store(options, clock, command_rules(clock, ids));
    if (!store) ADD_FAILURE() << store.error().message;
    return store ? std::move(*store) : nullptr;
}

std::int64_t count(pg::Connection& conn, const std::string& sql) {
    return conn.exec(sql).int64(0, 0);
}

TEST(PgIdempotencyRetention, OldRecordsGoNewOnesStayEventsAreKept) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    auto store = open_store(db.url(), clock, ids);
    ASSERT_TRUE(store);
    pg::Connection probe = pg::Connection::open(db.url());

    std::vector<std::string> keys;
    for (int i = 0; i < 5; ++i) {
        keys.push_back(ids.new_uuid_v7());
        accept(*store, contract::upsert_request(keys.back(), "SKU-" + std::to_string(i), 10));
    }
    // Three of them (and 2,500 more, so deleting takes several batches) are eight days old.
    probe.exec("UPDATE idempotency SET created_ms = $1 WHERE key = ANY($2::text[])",
               kT0 - 8 * kDayMs, std::vector<std::string>{keys[0], keys[1], keys[2]});
    probe.exec(
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, "
        "version, token, created_ms) SELECT 'old-' || g, 'f', 'upsert', gen_random_uuid(), "
        "'product', 'SKU-X', 1, 't', $1::bigint - g FROM generate_series(1, 2500) g",
        kT0 - 9 * kDayMs);
    // One just inside the window stays.
    probe.exec("UPDATE idempotency SET created_ms = $1 WHERE key = $2", kT0 - 6 * kDayMs, keys[3]);
    const std::int64_t events = count(probe, "SELECT COUNT(*) FROM events");
    ASSERT_EQ(events, 5);

    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count(probe, "SELECT COUNT(*) FROM idempotency") > 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(count(probe, "SELECT COUNT(*) FROM idempotency"), 2);
    for (int i = 0; i < 5; ++i) {
        auto found = store->find_idempotency(keys[i]);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->has_value(), i >= 3) << "key " << i;
    }
    EXPECT_EQ(count(probe, "SELECT COUNT(*) FROM events"), events);  // the log is kept

    // Re-sent after its record expired: a new command, with new events.
    const Acknowledgement again = accept(*store, contract::upsert_request(keys[0], "SKU-0", 10));
    EXPECT_FALSE(again.duplicate);
    EXPECT_EQ(again.version, 2);
    // Still inside the window: a duplicate.
    EXPECT_TRUE(accept(*store, contract::upsert_request(keys[3], "SKU-3", 10)).duplicate);
    EXPECT_EQ(count(probe, "SELECT COUNT(*) FROM events"), events + 1);
}

TEST(PgIdempotencyRetention, OneLeaderAtATimeAndAnotherTakesOver) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    auto a = open_store(db.url(), clock, ids);
    auto b = open_store(db.url(), clock, ids);
    ASSERT_TRUE(a && b);
    pg::Connection probe = pg::Connection::open(db.url());
    auto leaders = [&] {
        return probe
            .exec(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                "objsubid = 2 AND classid::bigint = $1 AND database = (SELECT oid FROM "
                "pg_database WHERE datname = current_database())",
                static_cast<std::int64_t>(pg::kRetentionLockSpace))
            .int64(0, 0);
    };
    auto wait_for_leader = [&] {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (leaders() == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(20ms);
    };
    wait_for_leader();
    std::this_thread::sleep_for(300ms);  // several sweeps of both
    EXPECT_EQ(leaders(), 1);

    // A goes away (whether it led or not): B leads and expires.
    a.reset();
    const std::string key = ids.new_uuid_v7();
    accept(*b, contract::upsert_request(key, "SKU-1", 1));
    probe.exec("UPDATE idempotency SET created_ms = $1", kT0 - 30 * kDayMs);
    wait_for_leader();
    EXPECT_EQ(leaders(), 1);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (count(probe, "SELECT COUNT(*) FROM idempotency") > 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(count(probe, "SELECT COUNT(*) FROM idempotency"), 0);
    EXPECT_EQ(count(probe, "SELECT COUNT(*) FROM events"), 1);
}

}  // namespace
}  // namespace ordinal
