// What only the SQLite stores promise: file handling, migrations, WAL durability settings,
// backpressure of the batching writer and a clean shutdown.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <latch>
#include <thread>

#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_migrations.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "codec/event_json.h"
#include "contract/store_contract.h"
#include "core/command_executor.h"
#include "core/projection_sequencer.h"
#include "support/temp_dir.h"

namespace ordinal::contract {
namespace {

using test_support::TempDir;

class SqliteStoreTest : public ::testing::Test {
  protected:
    std::unique_ptr<WriteStore> open_write(SqliteWriteStoreOptions options = {}) {
        if (options.path.empty()) options.path = dir_.file("write.db");
        auto store = make_sqlite_write_store(options, clock_, command_rules(clock_, ids_));
        EXPECT_TRUE(store) << store.error().message;
        return store ? std::move(*store) : nullptr;
    }

    TempDir dir_{"ordinal-sqlite"};
    FixedClock clock_{kT0};
    RandomIdGenerator ids_{clock_};
};

std::string raw_query_text(const std::string& path, const char* sql) {
    sqlite::ConnectionOptions options;
    options.path = path;
    options.create = false;
    sqlite::Connection conn = sqlite::Connection::open(options);
    sqlite::Query q = conn.query(sql);
    return q.next() ? q.text(0) : std::string();
}

TEST_F(SqliteStoreTest, UsesWalAndRecordsSchemaVersions) {
    auto store = open_write();
    ASSERT_TRUE(store);
    EXPECT_EQ(raw_query_text(dir_.file("write.db"), "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw_query_text(dir_.file("write.db"), "SELECT MAX(version) FROM schema_migrations"),
              std::to_string(sqlite::write_store_migrations().back().version));
}

// Schema version 1 to 2 (the trace context columns): an event stored before has none and reads
// as before.
TEST_F(SqliteStoreTest, EventsStoredBeforeTheTraceColumnsStayReadableWithoutATraceContext) {
    const auto all = sqlite::write_store_migrations();
    ASSERT_GE(all.size(), 2u);
    ASSERT_EQ(all[1].version, 2);
    Event e = product_upserted("SKU-OLD", 1, 5, 1);
    e.event_id = ids_.new_uuid_v7();
    {
        sqlite::ConnectionOptions options;
        options.path = dir_.file("write.db");
        sqlite::Connection conn = sqlite::Connection::open(options);
        sqlite::apply_migrations(conn, all.first(1));
        conn.exec(
            "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
            "causation_id, schema_version, data, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            e.event_id, stream_type_name(e.stream.type), e.stream.id, e.version,
            event_type_name(e.data), e.occurred_at, e.causation_id, e.schema_version,
            encode_event_data(e.data), kT0);
    }
    auto store = open_write();  // migrates to the latest
    ASSERT_TRUE(store);
    CommandRequest traced = upsert_request(ids_.new_uuid_v7(), "SKU-NEW", 1);
    traced.trace = TraceContext{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""};
    std::promise<CommandOutcome> outcome;
    store->submit(traced, [&outcome](CommandOutcome o) { outcome.set_value(std::move(o)); });
    ASSERT_TRUE(std::holds_alternative<Acknowledgement>(outcome.get_future().get()));
    auto pending = store->fetch_pending(10);
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 2u);
    EXPECT_EQ((*pending)[0].event.event_id, e.event_id);
    EXPECT_FALSE((*pending)[0].undecoded);
    EXPECT_TRUE((*pending)[0].trace.empty());
    EXPECT_EQ((*pending)[1].trace.traceparent, traced.trace.traceparent);
}

TEST_F(SqliteStoreTest, MigrateCreatesFilesAndIsIdempotent) {
    const std::string write = dir_.file("w.db");
    const std::string read = dir_.file("r.db");
    ASSERT_TRUE(migrate_sqlite_write_store(write));
    ASSERT_TRUE(migrate_sqlite_write_store(write));
    ASSERT_TRUE(migrate_sqlite_read_store(read));
    ASSERT_TRUE(migrate_sqlite_read_store(read));
    SqliteWriteStoreOptions options;
    options.path = write;
    auto store = open_write(options);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->check_ready());
    auto reads =
        make_sqlite_read_store(SqliteReadStoreOptions{read, 2}, clock_, projection_rules());
    ASSERT_TRUE(reads);
    EXPECT_TRUE((*reads)->check_ready());
}

TEST_F(SqliteStoreTest, RefusesAFileOfTheOtherStore) {
    const std::string read = dir_.file("r.db");
    ASSERT_TRUE(migrate_sqlite_read_store(read));
    auto store =
        make_sqlite_write_store(SqliteWriteStoreOptions{read}, clock_, command_rules(clock_, ids_));
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().kind, StoreError::Kind::Internal);
    EXPECT_FALSE(migrate_sqlite_write_store(read));
}

TEST_F(SqliteStoreTest, RefusesASchemaFromANewerRelease) {
    const std::string write = dir_.file("w.db");
    ASSERT_TRUE(migrate_sqlite_write_store(write));
    {
        sqlite::ConnectionOptions options;
        options.path = write;
        sqlite::Connection conn = sqlite::Connection::open(options);
        conn.exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)", 999,
                  "future", 0);
    }
    auto store = make_sqlite_write_store(SqliteWriteStoreOptions{write}, clock_,
                                         command_rules(clock_, ids_));
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().message.find("999"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReportsFilesItCannotUse) {
    const std::string garbage = dir_.file("garbage.db");
    std::ofstream(garbage) << std::string(8192, 'x');
    auto not_a_db = make_sqlite_write_store(SqliteWriteStoreOptions{garbage}, clock_,
                                            command_rules(clock_, ids_));
    ASSERT_FALSE(not_a_db);
    EXPECT_EQ(not_a_db.error().kind, StoreError::Kind::Internal);

    auto no_dir = make_sqlite_read_store(SqliteReadStoreOptions{dir_.file("missing/dir/read.db")},
                                         clock_, projection_rules());
    ASSERT_FALSE(no_dir);
    EXPECT_EQ(no_dir.error().kind, StoreError::Kind::Unavailable);

    EXPECT_FALSE(
        make_sqlite_write_store(SqliteWriteStoreOptions{""}, clock_, command_rules(clock_, ids_)));
    EXPECT_FALSE(make_sqlite_read_store(SqliteReadStoreOptions{":memory:"}, clock_,
                                        projection_rules()));  // readers could not share it
    EXPECT_FALSE(migrate_sqlite_write_store(garbage));
}

// The writer runs `done` callbacks on its own thread, so a callback that waits holds the writer
// still: that makes a full queue deterministic.
TEST_F(SqliteStoreTest, FullQueueShedsLoadWithOverloadedSynchronously) {
    SqliteWriteStoreOptions options;
    options.max_queue = 2;
    auto store = open_write(options);
    ASSERT_TRUE(store);

    std::latch release(1);
    std::promise<void> writer_held;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-0", 1), [&](CommandOutcome) {
        writer_held.set_value();
        release.wait();
    });
    writer_held.get_future().wait();

    std::vector<std::future<CommandOutcome>> queued;
    for (int i = 1; i <= 2; ++i) {
        auto p = std::make_shared<std::promise<CommandOutcome>>();
        queued.push_back(p->get_future());
        store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-" + std::to_string(i), 1),
                      [p](CommandOutcome o) { p->set_value(std::move(o)); });
    }
    std::optional<CommandOutcome> shed;
    const auto caller = std::this_thread::get_id();
    std::thread::id answered_on;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-3", 1), [&](CommandOutcome o) {
        answered_on = std::this_thread::get_id();
        shed = std::move(o);
    });
    ASSERT_TRUE(shed.has_value()) << "a full queue answers before submit returns";
    EXPECT_EQ(answered_on, caller);
    ASSERT_TRUE(std::holds_alternative<StoreError>(*shed));
    EXPECT_EQ(std::get<StoreError>(*shed).kind, StoreError::Kind::Overloaded);
    EXPECT_TRUE(std::get<StoreError>(*shed).retryable());

    release.count_down();
    for (auto& f : queued) EXPECT_TRUE(std::holds_alternative<Acknowledgement>(f.get()));
}

TEST_F(SqliteStoreTest, ClosingFailsQueuedCommandsWithUnavailableAndNeverHangs) {
    auto store = open_write();
    ASSERT_TRUE(store);
    std::latch release(1);
    std::promise<void> writer_held;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-0", 1), [&](CommandOutcome) {
        writer_held.set_value();
        release.wait();
    });
    writer_held.get_future().wait();

    std::atomic<int> calls{0};
    std::promise<CommandOutcome> queued;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-1", 1), [&](CommandOutcome o) {
        ++calls;
        queued.set_value(std::move(o));
    });

    std::thread closer([&] { store.reset(); });
    // Give the destructor time to mark the store as stopping before the writer is let go.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release.count_down();
    closer.join();

    const CommandOutcome outcome = queued.get_future().get();
    EXPECT_EQ(calls.load(), 1);
    ASSERT_TRUE(std::holds_alternative<StoreError>(outcome));
    EXPECT_EQ(std::get<StoreError>(outcome).kind, StoreError::Kind::Unavailable);
}

TEST_F(SqliteStoreTest, NonDurableModeStillCommits) {
    SqliteWriteStoreOptions options;
    options.durable = false;
    auto store = open_write(options);
    ASSERT_TRUE(store);
    std::promise<CommandOutcome> p;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-1", 1),
                  [&](CommandOutcome o) { p.set_value(std::move(o)); });
    EXPECT_TRUE(std::holds_alternative<Acknowledgement>(p.get_future().get()));
    EXPECT_EQ(raw_query_text(dir_.file("write.db"), "SELECT COUNT(*) FROM events"), "1");
}

TEST_F(SqliteStoreTest, ManyConcurrentCommandsShareBatches) {
    // Not a benchmark: proves that a burst is answered completely and each callback once.
    auto store = open_write();
    ASSERT_TRUE(store);
    constexpr int kCommands = 2000;
    std::atomic<int> accepted{0}, calls{0};
    std::promise<void> all_done;
    for (int i = 0; i < kCommands; ++i) {
        store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-" + std::to_string(i % 50), i),
                      [&](CommandOutcome o) {
                          if (std::holds_alternative<Acknowledgement>(o)) ++accepted;
                          if (++calls == kCommands) all_done.set_value();
                      });
    }
    all_done.get_future().wait();
    EXPECT_EQ(accepted.load(), kCommands);
    auto stats = store->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, kCommands);
}

// A command whose SQL fails mid-way (here: a trigger) gets its own StoreError and leaves no trace,
// while the other commands of the same batch commit.
TEST_F(SqliteStoreTest, AStoreFailureInOneCommandSparesTheRestOfItsBatch) {
    auto store = open_write();
    ASSERT_TRUE(store);
    {
        sqlite::ConnectionOptions options;
        options.path = dir_.file("write.db");
        sqlite::Connection conn = sqlite::Connection::open(options);
        conn.exec_script(
            "CREATE TRIGGER inject_failure BEFORE INSERT ON products WHEN NEW.sku = 'BOOM' "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    }
    // Hold the writer so that the next three commands queue up and share one batch.
    std::latch release(1);
    std::promise<void> writer_held;
    store->submit(upsert_request(ids_.new_uuid_v7(), "SKU-0", 1), [&](CommandOutcome) {
        writer_held.set_value();
        release.wait();
    });
    writer_held.get_future().wait();
    const std::vector<std::string> keys = {ids_.new_uuid_v7(), ids_.new_uuid_v7(),
                                           ids_.new_uuid_v7()};
    const std::vector<std::string> skus = {"SKU-A", "BOOM", "SKU-B"};
    std::vector<std::future<CommandOutcome>> outcomes;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto p = std::make_shared<std::promise<CommandOutcome>>();
        outcomes.push_back(p->get_future());
        store->submit(upsert_request(keys[i], skus[i], 1),
                      [p](CommandOutcome o) { p->set_value(std::move(o)); });
    }
    release.count_down();

    const CommandOutcome a = outcomes[0].get(), boom = outcomes[1].get(), b = outcomes[2].get();
    EXPECT_TRUE(std::holds_alternative<Acknowledgement>(a));
    EXPECT_TRUE(std::holds_alternative<Acknowledgement>(b));
    ASSERT_TRUE(std::holds_alternative<StoreError>(boom));
    EXPECT_NE(std::get<StoreError>(boom).message.find("injected failure"), std::string::npos);

    EXPECT_TRUE(store->find_idempotency(keys[0])->has_value());
    EXPECT_FALSE(store->find_idempotency(keys[1])->has_value());
    EXPECT_TRUE(store->find_idempotency(keys[2])->has_value());
    auto log = store->read_log(0, 100);
    ASSERT_TRUE(log);
    ASSERT_EQ(log->size(), 3u);  // SKU-0, SKU-A, SKU-B
    for (const StoredEvent& e : *log) EXPECT_NE(e.event.stream.id, "BOOM");
}

// A process killed mid-stream loses nothing it acknowledged: `done` runs only after COMMIT.
TEST_F(SqliteStoreTest, KillingTheProcessLosesNothingAcknowledged) {
    const std::string path = dir_.file("crash.db");
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(fds[0]);
        FixedClock clock(kT0);
        RandomIdGenerator ids(clock);
        auto store = make_sqlite_write_store(SqliteWriteStoreOptions{path}, clock,
                                             command_rules(clock, ids));
        if (!store) _exit(2);
        std::vector<std::thread> writers;
        for (int t = 0; t < 4; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0;; ++i) {
                    const std::string key = ids.new_uuid_v7();
                    std::promise<CommandOutcome> p;
                    (*store)->submit(upsert_request(key, "SKU-" + std::to_string(t), i),
                                     [&](CommandOutcome o) { p.set_value(std::move(o)); });
                    if (!std::holds_alternative<Acknowledgement>(p.get_future().get())) _exit(3);
                    const std::string line = key + "\n";  // < PIPE_BUF: written atomically
                    if (write(fds[1], line.data(), line.size()) !=
                        static_cast<ssize_t>(line.size())) {
                        _exit(4);
                    }
                }
            });
        }
        for (auto& w : writers) w.join();
        _exit(0);
    }
    close(fds[1]);

    std::string received;
    std::vector<std::string> acknowledged;
    auto read_some = [&] {
        char buf[4096];
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) return false;
        received.append(buf, static_cast<std::size_t>(n));
        for (auto nl = received.find('\n'); nl != std::string::npos; nl = received.find('\n')) {
            acknowledged.push_back(received.substr(0, nl));
            received.erase(0, nl + 1);
        }
        return true;
    };
    while (acknowledged.size() < 300 && read_some()) {
    }
    kill(child, SIGKILL);
    while (read_some()) {  // acknowledgements still in the pipe count too
    }
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    ASSERT_GE(acknowledged.size(), 300u);

    auto store =
        make_sqlite_write_store(SqliteWriteStoreOptions{path}, clock_, command_rules(clock_, ids_));
    ASSERT_TRUE(store) << store.error().message;
    for (const std::string& key : acknowledged) {
        auto record = (*store)->find_idempotency(key);
        ASSERT_TRUE(record) << record.error().message;
        EXPECT_TRUE(record->has_value()) << "acknowledged key lost: " << key;
    }
    auto stats = (*store)->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_GE(stats->pending, static_cast<std::int64_t>(acknowledged.size()));
}

// Idempotency retention on the embedded profile, as PgIdempotencyRetention.* on PostgreSQL:
// records older than the window are deleted in batches, newer ones stay, the event log is
// untouched, and a command re-sent after its record expired is a new command.
TEST_F(SqliteStoreTest, IdempotencyRecordsExpireInBatchesAndTheLogIsKept) {
    using namespace std::chrono_literals;
    constexpr std::int64_t kDayMs = 24 * 3600 * 1000LL;
    SqliteWriteStoreOptions options;
    options.path = dir_.file("write.db");
    options.idempotency_retention = 7 * 24h;
    options.retention_interval = 100ms;
    options.retention_batch_rows = 1000;
    auto store = open_write(options);
    ASSERT_TRUE(store);
    auto accept = [&](CommandRequest request) {
        std::promise<CommandOutcome> p;
        store->submit(std::move(request), [&p](CommandOutcome o) { p.set_value(std::move(o)); });
        const CommandOutcome o = p.get_future().get();
        EXPECT_TRUE(std::holds_alternative<Acknowledgement>(o));
        return std::holds_alternative<Acknowledgement>(o) ? std::get<Acknowledgement>(o)
                                                          : Acknowledgement{};
    };
    std::vector<std::string> keys;
    for (int i = 0; i < 5; ++i) {
        keys.push_back(ids_.new_uuid_v7());
        accept(upsert_request(keys.back(), "SKU-" + std::to_string(i), 10));
    }

    sqlite::ConnectionOptions raw;
    raw.path = options.path;
    raw.create = false;
    sqlite::Connection probe = sqlite::Connection::open(raw);
    auto count = [&](const char* sql) {
        sqlite::Query q = probe.query(sql);
        return q.next() ? q.int64(0) : -1;
    };
    // Three of them (and 2,500 more, so that deleting takes three batches) are eight days old.
    for (int i = 0; i < 3; ++i)
        probe.exec("UPDATE idempotency SET created_ms = ? WHERE key = ?", kT0 - 8 * kDayMs,
                   keys[i]);
    probe.exec(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2500) "
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, version, token, created_ms) SELECT 'old-' || n, 'f', 'upsert', 'e-' || n, "
        "'product', 'SKU-X', 1, 't', ? - n FROM g",
        kT0 - 9 * kDayMs);
    // One just inside the window stays.
    probe.exec("UPDATE idempotency SET created_ms = ? WHERE key = ?", kT0 - 6 * kDayMs, keys[3]);
    const std::int64_t events = count("SELECT COUNT(*) FROM events");
    ASSERT_EQ(events, 5);
    ASSERT_EQ(count("SELECT COUNT(*) FROM idempotency"), 2505);

    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count("SELECT COUNT(*) FROM idempotency") > 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM idempotency"), 2);
    for (int i = 0; i < 5; ++i) {
        auto found = store->find_idempotency(keys[i]);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->has_value(), i >= 3) << "key " << i;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM events"), events);  // the log is kept

    // Re-sent after its record expired: a new command, with new events.
    const Acknowledgement again = accept(upsert_request(keys[0], "SKU-0", 10));
    EXPECT_FALSE(again.duplicate);
    EXPECT_EQ(again.version, 2);
    // Still inside the window: a duplicate.
    EXPECT_TRUE(accept(upsert_request(keys[3], "SKU-3", 10)).duplicate);
    EXPECT_EQ(count("SELECT COUNT(*) FROM events"), events + 1);
}

}  // namespace
}  // namespace ordinal::contract
