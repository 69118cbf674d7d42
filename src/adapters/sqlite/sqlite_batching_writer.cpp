#include "adapters/sqlite/sqlite_batching_writer.h"

#include <exception>
#include <new>
#include <utility>

#include "adapters/batching_writer_support.h"
#include "adapters/sqlite/sqlite_write_rows.h"
#include "adapters/sqlite/sqlite_write_transaction.h"

namespace ordinal::sqlite {
namespace {

using writer_support::accepted;
using writer_support::call_quietly;

// The writer whose thread this is, if any: a callback that calls back into its own writer and
// waits would deadlock.
thread_local const SqliteBatchingWriter* tl_current_writer = nullptr;

}  // namespace

SqliteBatchingWriter::SqliteBatchingWriter(Connection conn, const Clock& clock, CommandRules rules,
                                           BatchingWriterOptions options)
    : conn_(std::move(conn)), clock_(clock), rules_(std::move(rules)), options_(options) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    thread_ = std::thread([this] { loop(); });
}

SqliteBatchingWriter::~SqliteBatchingWriter() {
    stop();
}

void SqliteBatchingWriter::stop() {
    std::lock_guard stop_lock(stop_mu_);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SqliteBatchingWriter::submit(CommandRequest request, WriteStore::Done done) {
    Job job = CommandJob{std::move(request), std::move(done), StoreError{}, 0};
    std::optional<StoreError> refused;
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            refused =
                StoreError{StoreError::Kind::Unavailable, "sqlite write store is shutting down"};
        } else if (queued_commands_ >= options_.max_queue) {
            refused = StoreError{StoreError::Kind::Overloaded, "sqlite write queue is full"};
        } else {
            try {
                queue_.push_back(std::move(job));  // strong guarantee: `job` intact if it throws
                ++queued_commands_;
            } catch (const std::bad_alloc&) {
                refused =
                    StoreError{StoreError::Kind::Overloaded, "out of memory queueing a command"};
            }
        }
    }
    if (refused) {
        deliver(job, *refused);
        return;
    }
    cv_.notify_one();
}

Expected<void, StoreError> SqliteBatchingWriter::mark_published(const sqlite::RelayBatch& batch) {
    return run_upkeep([batch](Connection& conn) { sqlite::mark_relay_batch(conn, batch); });
}

Expected<void, StoreError> SqliteBatchingWriter::run_upkeep(std::function<void(Connection&)> work) {
    if (tl_current_writer == this) {
        return unexpected(StoreError{
            StoreError::Kind::Internal,
            "the sqlite writer was asked to wait for itself (from a callback on its thread)"});
    }
    std::future<std::optional<StoreError>> result;
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return unexpected(
                StoreError{StoreError::Kind::Unavailable, "sqlite write store is shutting down"});
        }
        UpkeepJob job;
        job.work = std::move(work);
        result = job.done.get_future();
        queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    if (auto error = result.get()) return unexpected(std::move(*error));
    return {};
}

void SqliteBatchingWriter::set_commit_listener(std::function<void()> listener) {
    std::lock_guard lock(mu_);
    commit_listener_ = std::move(listener);
}

void SqliteBatchingWriter::loop() {
    tl_current_writer = this;
    for (;;) {
        std::vector<Job> batch = take_batch();
        if (batch.empty()) break;
        run_batch(batch);
    }
    // Stopping: whatever is still queued was never started.
    std::deque<Job> rest;
    {
        std::lock_guard lock(mu_);
        rest.swap(queue_);
        queued_commands_ = 0;
    }
    const StoreError gone =
        StoreError{StoreError::Kind::Unavailable, "sqlite write store is shutting down"};
    for (Job& job : rest) deliver(job, gone);
}

std::vector<SqliteBatchingWriter::Job> SqliteBatchingWriter::take_batch() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    std::vector<Job> batch;
    if (stopping_) return batch;
    // No waiting for stragglers: whatever queued during the last commit forms this batch, so a
    // lone command pays one fsync and a crowd shares one.
    while (!queue_.empty() && batch.size() < options_.max_batch) {
        if (std::holds_alternative<CommandJob>(queue_.front())) --queued_commands_;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return batch;
}

void SqliteBatchingWriter::run_batch(std::vector<Job>& batch) {
    bool appended = false;
    try {
        Transaction tx(conn_, Transaction::Mode::Immediate);
        for (Job& job : batch) {
            if (!run_in_savepoint(job)) {
                throw StoreFailure(StoreError{StoreError::Kind::Unavailable,
                                              "sqlite rolled back the batch after a failure"});
            }
            if (auto* cmd = std::get_if<CommandJob>(&job))
                appended = appended || cmd->events_appended > 0;
        }
        tx.commit();
    } catch (const std::exception& e) {
        // Nothing of this batch is durable (BEGIN or COMMIT failed, or SQLite dropped the
        // transaction): no job may report success.
        const StoreError failed = StoreError{StoreError::Kind::Unavailable, e.what()};
        for (Job& job : batch) deliver(job, failed);
        return;
    }
    if (appended) {
        std::function<void()> listener;
        {
            std::lock_guard lock(mu_);
            listener = commit_listener_;
        }
        if (listener) call_quietly(listener);
    }
    for (Job& job : batch) deliver(job);
}

bool SqliteBatchingWriter::run_in_savepoint(Job& job) {
    conn_.query("SAVEPOINT job").run();
    bool keep = false;
    try {
        std::visit([&](auto& j) { run_job(j); }, job);
        if (auto* cmd = std::get_if<CommandJob>(&job)) {
            keep = accepted(cmd->outcome);
        } else {
            keep = !std::get<UpkeepJob>(job).outcome.has_value();
        }
    } catch (const StoreFailure& f) {
        std::visit([&](auto& j) { j.outcome = f.error; }, job);
    } catch (const std::exception& e) {
        std::visit(
            [&](auto& j) {
                j.outcome = StoreError{StoreError::Kind::Internal, e.what()};
            },
            job);
    }
    if (keep) {
        conn_.query("RELEASE job").run();
        return true;
    }
    // Some failures (I/O, full disk) make SQLite roll back the whole transaction by itself; then
    // the savepoint is gone along with every earlier job of the batch.
    if (!conn_.in_transaction()) return false;
    if (auto* cmd = std::get_if<CommandJob>(&job)) cmd->events_appended = 0;
    conn_.query("ROLLBACK TO job").run();
    conn_.query("RELEASE job").run();
    return true;
}

void SqliteBatchingWriter::run_job(CommandJob& job) {
    SqliteWriteTransaction tx(conn_, clock_);
    job.outcome = rules_(tx, job.request);
    job.events_appended = tx.events_appended();
}

void SqliteBatchingWriter::run_job(UpkeepJob& job) {
    job.work(conn_);
}

void SqliteBatchingWriter::deliver(Job& job) {
    if (auto* cmd = std::get_if<CommandJob>(&job)) {
        call_quietly([&] { cmd->done(std::move(cmd->outcome)); });
    } else {
        auto& upkeep = std::get<UpkeepJob>(job);
        upkeep.done.set_value(std::move(upkeep.outcome));
    }
}

void SqliteBatchingWriter::deliver(Job& job, const StoreError& e) {
    std::visit([&](auto& j) { j.outcome = e; }, job);
    deliver(job);
}

}  // namespace ordinal::sqlite
