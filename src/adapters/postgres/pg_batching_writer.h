#pragma once
// The write store's writers: a few threads, each with its own connection and its own queue
// (commands are routed by the product they change, else by their order, so commands on one
// product share batches instead of waiting for each other's row locks), take queued commands in
// batches and run each batch as ONE transaction, running the command rules they were given (the
// core's, ports/command_rules.h) through a WriteTransaction. Callbacks run only after COMMIT
// returned. pg_batching_writer.cpp routes commands and picks the engine (the queues and threads are
// adapters/batching_writer_support.h's, shared with the SQLite writer); pg_batch_engines.cpp
// holds the two ways to run a batch:
//
// - fast (always tried first): one statement reads the idempotency records of all the batch's
//   keys, one or two lock and read every existing order and product row it will change, the
//   commands then run in memory (each sees the batch's accepted effects; a rejected command's
//   effects are dropped, as a savepoint would), and ONE statement writes all effects (final row
//   states, events in command order, idempotency records): ~5 round trips per batch, not ~8 per
//   command;
// - slow (when a fast-path statement fails other than by a lost connection, deadlock or
//   serialization failure, typically a unique violation): a SAVEPOINT per command and the rows
//   read again FOR UPDATE inside it, so only the command concerned is affected.
//
// Concurrency (also across processes sharing the database):
// - at the start of a batch every existing order and product row it will change is locked in one
//   fixed order (orders by id, products by sku), so batches do not deadlock on them;
// - the idempotency key's PRIMARY KEY is authoritative: a key (or stream version) committed by a
//   concurrent transaction after the fast path read the keys makes its write fail with a unique
//   violation; the batch then runs the slow way, where such a command's savepoint is rolled back
//   and the command runs again, now seeing the other's commit (duplicate, KeyReused or the next
//   version);
// - a deadlock or serialization failure rolls the whole batch back and runs it again;
// - a lost connection fails the batch with Unavailable (nothing of it is committed, or, if COMMIT
//   itself was lost, a retry with the same key answers duplicate); the connection is re-opened
//   for the next batch.
// Thread-safe.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "adapters/batching_writer_support.h"
#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_notifier.h"
#include "ports/clock.h"
#include "ports/command_rules.h"
#include "ports/write_store.h"

namespace ordinal::pg {

struct BatchingWriterOptions {
    std::string conninfo;
    std::size_t connections = 1;    // writer threads, one connection each
    std::size_t max_queue = 10000;  // queued commands beyond this are shed with Overloaded
    std::size_t max_batch = 128;    // commands per transaction
};

class PgBatchingWriter {
  public:
    PgBatchingWriter(BatchingWriterOptions options, const Clock& clock, CommandRules rules);
    ~PgBatchingWriter();  // stop()
    PgBatchingWriter(const PgBatchingWriter&) = delete;
    PgBatchingWriter& operator=(const PgBatchingWriter&) = delete;

    // Queues a command. `done` runs once on a writer thread, or right here with Overloaded when
    // the queue is full or Unavailable once stopping.
    void submit(CommandRequest request, WriteStore::Done done);
    void set_commit_listener(std::function<void()> listener);
    // Whether a batch that appended events sends NOTIFY ordinal_outbox (on by default). The write
    // store turns it off while this process's relay owns every outbox partition: that relay is
    // woken by the commit listener, and no other relay may publish anything meanwhile, so a
    // notification would only cost a transaction on the notifier's connection and a wake-up of
    // every listener. A relay elsewhere that misses one still finds the events by its idle poll.
    void set_outbox_notices(bool on) { outbox_notices_.store(on, std::memory_order_relaxed); }
    // Lets batches in flight finish, fails queued commands with Unavailable, joins. Idempotent.
    void stop();

  private:
    struct Job {
        CommandRequest request;
        WriteStore::Done done;
        CommandOutcome outcome;
        std::int64_t events_appended = 0;
    };
    // The two ways to run a batch (pg_batch_engines.cpp).
    enum class Engine {
        Fast,        // every row and key read up front, all effects written in one statement
        Savepoints,  // a savepoint per command: a failing command fails (or runs again) alone
    };
    // What running a batch with one engine came to.
    struct BatchResult {
        std::optional<StoreError> failed;  // nullopt: committed
        // A statement failed other than by a lost connection, deadlock or serialization failure
        // (typically a unique violation): the batch may run again with Engine::Savepoints.
        bool statement_failed = false;
    };

    void loop(std::size_t lane);
    std::size_t route(const Command& command) const;  // the writer (lane) a command goes to
    void run_batch(Connection& conn, std::vector<Job>& batch);
    // Runs the batch with `engine`, again after a deadlock or serialization failure (up to
    // kBatchAttempts times); rolls back whatever failed.
    BatchResult run_engine(Connection& conn, std::vector<Job>& batch, Engine engine);
    void open(Connection& conn);  // (re)connects a writer's connection that is not healthy
    // One attempt at the whole batch, a savepoint per command; throws PgFailure (deadlock, lost
    // connection...).
    void try_batch(Connection& conn, std::vector<Job>& batch);
    // The same, with every row and idempotency key of the batch read in three statements up
    // front and all its effects written in one at the end (no savepoints): a handful of round
    // trips per batch instead of ~8 per command.
    void try_batch_fast(Connection& conn, std::vector<Job>& batch);
    void run_job(Connection& conn, Job& job);
    // A deadlock or serialization failure: the whole batch runs again.
    static bool retry_batch(const PgFailure& f);

    BatchingWriterOptions options_;
    const Clock& clock_;
    CommandRules rules_;
    Notifier outbox_notifier_;  // before lanes_: the writer threads signal it
    std::atomic<bool> outbox_notices_{true};
    writer_support::WriterLanes<Job> lanes_;  // the queues and the writer threads
};

}  // namespace ordinal::pg
