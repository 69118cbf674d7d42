#pragma once
// The write store's single writer: one thread owns the write connection and runs every write.
// Commands queue up while a commit is in flight and then share the next transaction, and so one
// fsync: this group commit is what gives the embedded store its throughput.
//
// A batch is BEGIN IMMEDIATE; per job SAVEPOINT, the job, then RELEASE (accepted) or ROLLBACK TO
// (rejected, or the store failed for that job alone); COMMIT. Callbacks run only after COMMIT
// returned, each with its own job's outcome; if the batch cannot commit, every job in it gets
// StoreError{Unavailable}. Thread-safe.
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <variant>
#include <vector>

#include "adapters/batching_writer_support.h"
#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "ports/clock.h"
#include "ports/command_rules.h"
#include "ports/write_store.h"

namespace ordinal::sqlite {

struct BatchingWriterOptions {
    // queued jobs beyond this are shed with Overloaded (upkeep jobs count, but are never shed)
    std::size_t max_queue = 10000;
    std::size_t max_batch = 256;  // jobs per transaction
};

class SqliteBatchingWriter {
  public:
    // Takes the (migrated) write connection and starts the writer thread.
    SqliteBatchingWriter(Connection conn, const Clock& clock, CommandRules rules,
                         BatchingWriterOptions options);
    // stop(), then closes the connection.
    ~SqliteBatchingWriter();
    SqliteBatchingWriter(const SqliteBatchingWriter&) = delete;
    SqliteBatchingWriter& operator=(const SqliteBatchingWriter&) = delete;

    // Queues a command. `done` runs once on the writer thread, or right here with Overloaded when
    // the queue is full or Unavailable once stopping. `done` must not block for long: the next
    // batch waits for it.
    void submit(CommandRequest request, WriteStore::Done done);

    // Marks a relay batch published (sqlite::mark_relay_batch) in the writer's next batch and
    // waits for its commit. Never refused for a full queue: marking is what drains the outbox.
    // Must not be called from a `done` callback or the commit listener (it would wait for itself:
    // returns Internal).
    Expected<void, StoreError> mark_published(const sqlite::RelayBatch& batch);

    // Runs `work` on the writer's connection in its next batch (a savepoint of its own: a throw
    // undoes only `work`) and waits for the commit. The write lock is the writer's, so upkeep
    // such as expiring idempotency records never waits on busy_timeout nor makes commands wait
    // on it. Same rules as mark_published; keep `work` short (one small statement): the
    // batch's commands wait for it.
    Expected<void, StoreError> run_upkeep(std::function<void(Connection&)> work);

    // Runs on the writer thread after each commit that appended events.
    void set_commit_listener(std::function<void()> listener);

    // Lets the batch in flight finish, fails every queued job with Unavailable and joins the
    // thread. Idempotent.
    void stop();

  private:
    struct CommandJob {
        CommandRequest request;
        WriteStore::Done done;
        CommandOutcome outcome;
        std::int64_t events_appended = 0;
    };
    // Not a command: marking published events, upkeep. Never shed; the caller waits on `done`.
    struct UpkeepJob {
        std::function<void(Connection&)> work;
        std::promise<std::optional<StoreError>> done;
        std::optional<StoreError> outcome;
    };
    using Job = std::variant<CommandJob, UpkeepJob>;

    void loop();
    void run_batch(std::vector<Job>& batch);
    // Runs one job inside a savepoint. Returns false if the whole transaction was lost.
    bool run_in_savepoint(Job& job);
    void run_job(CommandJob& job);
    void run_job(UpkeepJob& job);
    static void deliver(Job& job);                       // the job's own outcome
    static void deliver(Job& job, const StoreError& e);  // a failure instead of it

    Connection conn_;  // used only by the writer thread
    const Clock& clock_;
    CommandRules rules_;
    writer_support::WriterLanes<Job> lanes_;  // one lane: the queue and the writer thread
};

}  // namespace ordinal::sqlite
