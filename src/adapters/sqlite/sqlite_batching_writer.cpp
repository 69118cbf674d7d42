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
    : conn_(std::move(conn)),
      clock_(clock),
      rules_(std::move(rules)),
      lanes_("sqlite", {1, options.max_queue, options.max_batch}) {
    lanes_.start([this](std::size_t) { loop(); });
}

SqliteBatchingWriter::~SqliteBatchingWriter() {
    stop();
}

void SqliteBatchingWriter::stop() {
    // Whatever is still queued was never started.
    for (Job& job : lanes_.stop()) deliver(job, lanes_.shutting_down());
}

void SqliteBatchingWriter::submit(CommandRequest request, WriteStore::Done done) {
    Job job = CommandJob{std::move(request), std::move(done), StoreError{}, 0};
    if (auto refused = lanes_.push(0, job)) deliver(job, *refused);
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
    UpkeepJob upkeep;
    upkeep.work = std::move(work);
    std::future<std::optional<StoreError>> result = upkeep.done.get_future();
    Job job = std::move(upkeep);
    if (auto refused = lanes_.push(0, job, /*sheddable=*/false)) return unexpected(*refused);
    if (auto error = result.get()) return unexpected(std::move(*error));
    return {};
}

void SqliteBatchingWriter::set_commit_listener(std::function<void()> listener) {
    lanes_.set_commit_listener(std::move(listener));
}

void SqliteBatchingWriter::loop() {
    tl_current_writer = this;
    std::vector<Job> batch;
    while (lanes_.take(0, batch)) run_batch(batch);
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
    if (appended) lanes_.committed();
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
