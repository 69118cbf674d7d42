// Several relays at once on one PostgreSQL outbox: two write stores (two processes' worth of
// connections and leases), each with its own core Relay, publish into one recording bus. Every
// event is published, each stream in version order, no partition is served by both relays at
// once, and when one relay's session dies the other takes its partitions within seconds, or,
// when it is stuck sending to a relay that stopped reading, once it has been stuck that long.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_outbox_lease.h"
#include "core/relay.h"
#include "core/system_clock.h"
#include "ports/metrics.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;
using Clock_ = std::chrono::steady_clock;

constexpr std::int64_t kPartitions = 8;

// What every relay published, in the order the bus accepted it, with when each batch was in
// flight (to check that no partition was served by two relays at the same time).
class RecordingLog {
  public:
    struct Batch {
        std::string relay;
        Clock_::time_point begin, end;
        std::vector<StoredEvent> events;
    };

    void add(Batch b) {
        std::lock_guard lock(mu_);
        std::set<StreamKey> seen;
        for (const StoredEvent& e : b.events) {
            auto& v = versions_[e.event.stream];
            if (e.event.version > v + 1) out_of_order_ = true;  // a gap: published too early
            if (e.event.version > v) v = e.event.version;
            ids_.insert(e.event.event_id);
        }
        batches_.push_back(std::move(b));
    }
    std::vector<Batch> batches() {
        std::lock_guard lock(mu_);
        return batches_;
    }
    std::set<std::string> ids() {
        std::lock_guard lock(mu_);
        return ids_;
    }
    bool out_of_order() {
        std::lock_guard lock(mu_);
        return out_of_order_;
    }

  private:
    std::mutex mu_;
    std::vector<Batch> batches_;
    std::map<StreamKey, std::int64_t> versions_;
    std::set<std::string> ids_;
    bool out_of_order_ = false;
};

class RecordingBus final : public Bus {
  public:
    RecordingBus(std::string relay, RecordingLog& log) : relay_(std::move(relay)), log_(log) {}
    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        RecordingLog::Batch b{relay_, Clock_::now(), {}, {events.begin(), events.end()}};
        std::this_thread::sleep_for(2ms);  // a broker round trip: widens any overlap
        b.end = Clock_::now();
        log_.add(std::move(b));
        return {};
    }
    void subscribe(EventConsumer*) override {}
    Expected<void, StoreError> check_ready() override { return {}; }

  private:
    std::string relay_;
    RecordingLog& log_;
};

std::unique_ptr<WriteStore> open_store(const std::string& url, const Clock& clock,
                                       IdGenerator& ids) {
    PostgresWriteStoreOptions options;
    options.conninfo = url;
    options.outbox_partitions = kPartitions;
    options.relay_lease_refresh = 200ms;
    auto store = make_postgres_write_store(options, clock, command_rules(clock, ids));
    if (!store) ADD_FAILURE() << store.error().message;
    return store ? std::move(*store) : nullptr;
}

// Partition lock holders: backend pid -> partitions.
std::map<std::int64_t, std::set<std::int64_t>> partition_holders(pg::Connection& conn) {
    pg::Result r = conn.exec(
        "SELECT pid, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
        "objsubid = 2 AND classid::bigint = $1 AND database = (SELECT oid FROM pg_database WHERE "
        "datname = current_database())",
        static_cast<std::int64_t>(pg::kPartitionLockSpace));
    std::map<std::int64_t, std::set<std::int64_t>> out;
    for (int i = 0; i < r.rows(); ++i) out[r.int64(i, 0)].insert(r.int64(i, 1));
    return out;
}

std::map<StreamKey, std::int64_t> partition_of_streams(pg::Connection& conn) {
    pg::Result r = conn.exec("SELECT DISTINCT stream_type, stream_id, stream_hash % $1 FROM events",
                             kPartitions);
    std::map<StreamKey, std::int64_t> out;
    for (int i = 0; i < r.rows(); ++i) {
        out[StreamKey{pg::parse_stored_stream_type(r.text(i, 0)), r.text(i, 1)}] = r.int64(i, 2);
    }
    return out;
}

std::set<std::string> all_event_ids(pg::Connection& conn) {
    pg::Result r = conn.exec("SELECT event_id::text FROM events");
    std::set<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.insert(r.text(i, 0));
    return out;
}

std::int64_t pending(pg::Connection& conn) {
    return conn.exec("SELECT COUNT(*) FROM outbox_pending").int64(0, 0);
}

// `count` upserts over 24 products from 6 threads (many versions per stream).
void write_upserts(WriteStore& store, IdGenerator& ids, int count, int round) {
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            for (int i = next++; i < count; i = next++) {
                std::promise<CommandOutcome> p;
                store.submit(
                    contract::upsert_request(ids.new_uuid_v7(), "SKU-" + std::to_string(i % 24), 1,
                                             100 + round * 10000 + i),
                    [&p](CommandOutcome o) { p.set_value(std::move(o)); });
                auto o = p.get_future().get();
                EXPECT_TRUE(std::holds_alternative<Acknowledgement>(o));
            }
        });
    }
    for (auto& t : threads) t.join();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds within) {
    const auto deadline = Clock_::now() + within;
    while (Clock_::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

TEST(PgRelayPartitions, TwoRelaysShareTheOutboxAndOneTakesOverWhenTheOtherDies) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    auto store_a = open_store(db.url(), clock, ids);
    auto store_b = open_store(db.url(), clock, ids);
    ASSERT_TRUE(store_a && store_b);
    pg::Connection probe = pg::Connection::open(db.url());

    RecordingLog log;
    RecordingBus bus_a("A", log), bus_b("B", log);
    MetricsRegistry metrics_a, metrics_b;
    RelayOptions relay_options;
    relay_options.batch_size = 20;  // many small rounds: more chances to interleave
    relay_options.idle_poll = 20ms;
    Relay relay_a(*store_a, bus_a, metrics_a, relay_options);
    Relay relay_b(*store_b, bus_b, metrics_b, relay_options);
    relay_a.start();
    relay_b.start();

    // They split the partitions between them: 4 each, all owned.
    ASSERT_TRUE(wait_until(
        [&] {
            auto holders = partition_holders(probe);
            if (holders.size() != 2) return false;
            for (const auto& [pid, parts] : holders) {
                if (parts.size() != kPartitions / 2) return false;
            }
            return true;
        },
        10s))
        << "partitions not balanced over two relays";

    write_upserts(*store_a, ids, 300, 1);
    write_upserts(*store_b, ids, 300, 2);
    ASSERT_TRUE(wait_until([&] { return pending(probe) == 0; }, 20s))
        << pending(probe) << " pending";

    EXPECT_EQ(log.ids(), all_event_ids(probe));
    EXPECT_FALSE(log.out_of_order());

    // Each partition went through one relay only (both lived throughout), and so both relays
    // published.
    const auto partition_of = partition_of_streams(probe);
    std::map<std::int64_t, std::set<std::string>> relays_of_partition;
    for (const auto& b : log.batches()) {
        for (const auto& e : b.events)
            relays_of_partition[partition_of.at(e.event.stream)].insert(b.relay);
    }
    std::set<std::string> relays;
    for (const auto& [p, rs] : relays_of_partition) {
        EXPECT_EQ(rs.size(), 1u) << "partition " << p << " served by two relays";
        relays.insert(rs.begin(), rs.end());
    }
    EXPECT_EQ(relays.size(), 2u);

    // B dies: its relay stops and its session ends without unlocking (as when a process is
    // killed). B's pid is the holder of the partitions B published.
    std::int64_t b_partition = -1;
    for (const auto& [p, rs] : relays_of_partition) {
        if (rs.count("B")) b_partition = p;
    }
    ASSERT_GE(b_partition, 0);
    relay_b.stop();
    std::int64_t b_pid = 0, a_pid = 0;
    for (const auto& [pid, parts] : partition_holders(probe))
        (parts.count(b_partition) ? b_pid : a_pid) = pid;
    ASSERT_NE(b_pid, 0);
    ASSERT_NE(a_pid, 0);

    const auto log_before = log.batches().size();
    write_upserts(*store_a, ids, 200, 3);  // some land in B's partitions, which nobody serves now
    probe.exec("SELECT pg_terminate_backend($1::int)", b_pid);
    const auto killed = Clock_::now();
    ASSERT_TRUE(wait_until([&] { return pending(probe) == 0; }, 10s))
        << pending(probe) << " pending";
    const auto takeover = Clock_::now() - killed;
    EXPECT_LT(takeover, 5s);
    std::cout << "takeover after the session died: "
              << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms; "
              << log.batches().size() << " batches\n";
    const auto holders = partition_holders(probe);
    ASSERT_EQ(holders.size(), 1u);
    EXPECT_EQ(holders.begin()->first, a_pid);
    EXPECT_EQ(holders.begin()->second.size(), static_cast<std::size_t>(kPartitions));

    EXPECT_EQ(log.ids(), all_event_ids(probe));
    EXPECT_FALSE(log.out_of_order());
    const auto batches = log.batches();
    for (std::size_t i = log_before; i < batches.size(); ++i) EXPECT_EQ(batches[i].relay, "A");

    // No partition was ever in flight on both relays at once.
    const auto partition_now = partition_of_streams(probe);
    std::map<std::int64_t, std::vector<const RecordingLog::Batch*>> by_partition;
    for (const auto& b : batches) {
        std::set<std::int64_t> parts;
        for (const auto& e : b.events) parts.insert(partition_now.at(e.event.stream));
        for (auto p : parts) by_partition[p].push_back(&b);
    }
    for (const auto& [p, list] : by_partition) {
        for (const auto* x : list) {
            for (const auto* y : list) {
                if (x->relay == y->relay) continue;
                EXPECT_TRUE(x->end <= y->begin || y->end <= x->begin)
                    << "partition " << p << " in flight on " << x->relay << " and " << y->relay;
            }
        }
    }
    relay_a.stop();
}

// A relay that joins late gets its share: the first relay hands partitions back.
TEST(PgRelayPartitions, ALateRelayGetsItsShareAndALoneRelayOwnsAll) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    auto store_a = open_store(db.url(), clock, ids);
    ASSERT_TRUE(store_a);
    pg::Connection probe = pg::Connection::open(db.url());

    ASSERT_TRUE((*store_a).fetch_pending(10));
    auto holders = partition_holders(probe);
    ASSERT_EQ(holders.size(), 1u);
    EXPECT_EQ(holders.begin()->second.size(), static_cast<std::size_t>(kPartitions));

    auto store_b = open_store(db.url(), clock, ids);
    ASSERT_TRUE(store_b);
    EXPECT_TRUE(wait_until(
        [&] {
            EXPECT_TRUE(store_a->fetch_pending(10));
            EXPECT_TRUE(store_b->fetch_pending(10));
            auto h = partition_holders(probe);
            return h.size() == 2 && h.begin()->second.size() == kPartitions / 2 &&
                   h.rbegin()->second.size() == kPartitions / 2;
        },
        5s));

    store_b.reset();  // an orderly close hands its partitions back at once
    EXPECT_TRUE(wait_until(
        [&] {
            EXPECT_TRUE(store_a->fetch_pending(10));
            auto h = partition_holders(probe);
            return h.size() == 1 && h.begin()->second.size() == kPartitions;
        },
        5s));
}

// Relays that disagree on the partition count would split streams differently: the one that
// notices owns nothing and fails, instead of sharing a stream.
TEST(PgRelayPartitions, RelaysWithAnotherPartitionCountRefuseToOwnAnything) {
    test_support::PgTestDatabase db;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    auto store_a = open_store(db.url(), clock, ids);
    ASSERT_TRUE(store_a);
    ASSERT_TRUE(store_a->fetch_pending(10));

    PostgresWriteStoreOptions options;
    options.conninfo = db.url();
    options.outbox_partitions = kPartitions * 2;
    auto store_b = make_postgres_write_store(options, clock, command_rules(clock, ids));
    ASSERT_TRUE(store_b);
    auto refused = (*store_b)->fetch_pending(10);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("partition count"), std::string::npos)
        << refused.error().message;
    pg::Connection probe = pg::Connection::open(db.url());
    EXPECT_EQ(partition_holders(probe).size(), 1u);
}

// A relay stopped (SIGSTOP, a frozen VM) while its lease session sends it a fetched batch: the
// session is blocked in that send, active rather than idle, so the server's idle timeouts never
// end it, and without tcp_user_timeout (a Unix socket, or a kernel that probes a closed window
// forever) nothing else would: the stopped relay would keep its partitions for as long as it stays
// stopped. The other relays end such a session once it has been stuck for the lease's idle
// timeout and take its partitions; a live relay's session is never ended.
TEST(PgRelayPartitions, ALeaseSessionStuckSendingToAStoppedRelayIsEndedByTheOthers) {
    test_support::PgTestDatabase db;
    pg::Connection probe = pg::Connection::open(db.url());
    // The stopped relay's lease session, in plain libpq and without tcp_user_timeout: it holds the
    // member lock and every partition, as a lone relay's lease does, then asks for a result far
    // larger than the socket buffers and reads none of it.
    std::unique_ptr<PGconn, void (*)(PGconn*)> stuck(PQconnectdb(db.url().c_str()), PQfinish);
    ASSERT_EQ(PQstatus(stuck.get()), CONNECTION_OK) << PQerrorMessage(stuck.get());
    const std::string take =
        "SELECT pg_advisory_lock_shared(" + std::to_string(pg::kMemberLockSpace) + ", " +
        std::to_string(kPartitions) + "), pg_try_advisory_lock(" +
        std::to_string(pg::kPartitionLockSpace) + ", p) FROM generate_series(0, " +
        std::to_string(kPartitions - 1) + ") p";
    PGresult* taken = PQexec(stuck.get(), take.c_str());
    ASSERT_EQ(PQresultStatus(taken), PGRES_TUPLES_OK);
    PQclear(taken);
    const std::int64_t stuck_pid = PQbackendPID(stuck.get());
    ASSERT_EQ(partition_holders(probe)[stuck_pid].size(), static_cast<std::size_t>(kPartitions));
    ASSERT_EQ(PQsendQuery(stuck.get(), "SELECT repeat('x', 1000) FROM generate_series(1, 100000)"),
              1);
    ASSERT_TRUE(wait_until(
        [&] {
            return probe
                       .exec(
                           "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1 AND "
                           "wait_event = 'ClientWrite'",
                           stuck_pid)
                       .int64(0, 0) == 1;
        },
        5s))
        << "the session never blocked sending";

    // Two live relays; theirs is the bound under test (the server's tcp_user_timeout, where
    // there is one, is 15 s).
    const pg::OutboxLeaseOptions options{db.url(), kPartitions, 100ms, 1500ms};
    pg::OutboxLease a(options), b(options);
    ASSERT_NO_THROW(a.owned());
    ASSERT_NO_THROW(b.owned());
    const std::int64_t pid_a = a.connection().exec("SELECT pg_backend_pid()").int64(0, 0);
    const std::int64_t pid_b = b.connection().exec("SELECT pg_backend_pid()").int64(0, 0);
    const auto start = Clock_::now();
    ASSERT_TRUE(wait_until([&] { return a.owned().size() + b.owned().size() == kPartitions; }, 8s))
        << "the stuck session kept its partitions";
    std::cout
        << "measured: a lease session stuck sending to its relay ended, its partitions "
           "taken after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock_::now() - start).count()
        << " ms (lease idle timeout 1500 ms)" << std::endl;
    const auto holders = partition_holders(probe);
    EXPECT_EQ(holders.count(stuck_pid), 0u);
    EXPECT_EQ(holders.size(), 2u);
    // The live relays kept their sessions: only the stuck one was ended.
    EXPECT_EQ(a.connection().exec("SELECT pg_backend_pid()").int64(0, 0), pid_a);
    EXPECT_EQ(b.connection().exec("SELECT pg_backend_pid()").int64(0, 0), pid_b);
    // What the stopped relay finds when it reads again: its session is gone.
    PGresult* r = nullptr;
    bool failed = false;
    while ((r = PQgetResult(stuck.get())) != nullptr) {
        failed = failed || PQresultStatus(r) == PGRES_FATAL_ERROR;
        PQclear(r);
    }
    EXPECT_TRUE(failed || PQstatus(stuck.get()) == CONNECTION_BAD);
}

}  // namespace
}  // namespace ordinal
