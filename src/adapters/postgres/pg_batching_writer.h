#pragma once
// The write store's writers: a few threads, each with its own connection and its own queue
// (commands are routed by the product they change, else by their order, so commands on one
// product share batches instead of waiting for each other's row locks), take queued commands in
// batches and run each batch as ONE transaction, running the command rules they were given (the
// core's, ports/command_rules.h) through a WriteTransaction. Callbacks run only after COMMIT
// returned. pg_batching_writer.cpp holds the queues and the retry loop; pg_batch_engines.cpp the
// two ways to run a batch:
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
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_notifier.h"
#include "domain/thread_annotations.h"
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
    // Lets batches in flight finish, fails queued commands with Unavailable, joins. Idempotent.
    void stop();

  private:
    struct Job {
        CommandRequest request;
        WriteStore::Done done;
        CommandOutcome outcome;
        std::int64_t events_appended = 0;
    };

    void loop(std::size_t index);
    std::size_t route(const Command& command) const;  // the writer (queue) a command goes to
    std::vector<Job> take_batch(std::size_t index);   // empty once stopping
    void run_batch(Connection& conn, std::vector<Job>& batch);
    // One attempt at the whole batch; throws PgFailure (deadlock, lost connection...).
    void try_batch(Connection& conn, std::vector<Job>& batch);
    // The same, with every row and idempotency key of the batch read in three statements up
    // front and all its effects written in one at the end (no savepoints): a handful of round
    // trips per batch instead of ~8 per command. Falls back to try_batch when a statement fails.
    void try_batch_fast(Connection& conn, std::vector<Job>& batch);
    void run_job(Connection& conn, Job& job);
    // A deadlock or serialization failure: the whole batch runs again.
    static bool retry_batch(const PgFailure& f);

    BatchingWriterOptions options_;
    const Clock& clock_;
    CommandRules rules_;

    // One per writer, each with its own condition variable: a command wakes only the writer
    // whose queue it joins, and only when that writer waits (a busy writer finds it when its
    // batch is done), instead of every writer on every command.
    struct Lane {
        // Guarded by the writer's mu_ (a member of the enclosing class, which an annotation of a
        // nested struct cannot name).
        std::deque<Job> queue;
        std::condition_variable cv;
        bool waiting = false;
    };

    std::mutex mu_;
    std::vector<std::unique_ptr<Lane>> lanes_;  // one per writer; the vector is fixed at start
    std::size_t queued_ GUARDED_BY(mu_) = 0;    // over all queues
    bool stopping_ GUARDED_BY(mu_) = false;
    std::function<void()> commit_listener_ GUARDED_BY(mu_);
    std::mutex stop_mu_;        // serializes stop() callers
    Notifier outbox_notifier_;  // before threads_: they signal it
    std::vector<std::thread> threads_;
};

}  // namespace ordinal::pg
