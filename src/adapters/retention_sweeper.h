#pragma once
// What the two write stores' idempotency retention (postgres/pg_idempotency_retention,
// sqlite/sqlite_idempotency_retention) shares: the sweep's timing. A thread of its own sweeps
// every `interval`: with one cutoff for the whole sweep, it deletes records older than the
// retention window in batches of at most `batch_rows`, pausing between batches, until a batch
// deletes fewer (or fails: nothing is half-done, the next sweep tries again). How a batch is
// deleted, and whether this process may sweep at all, is each store's. Only the idempotency
// table is touched: the event log is kept (rebuilds replay it). Header-only and library-free,
// like batching_writer_support.h.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "ports/clock.h"
#include "ports/stop_signal.h"
#include "ports/thread_name.h"

namespace ordinal::retention {

struct RetentionOptions {
    std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds interval{std::chrono::seconds(60)};  // between sweeps
    std::int64_t batch_rows = 1000;                                // rows per DELETE
    std::chrono::milliseconds pause{20};                           // between batches
};

struct SweepSteps {
    // Whether this process sweeps this time (PostgreSQL: whether it leads); false skips a sweep.
    std::function<bool()> may_sweep = [] { return true; };
    // Deletes at most `rows` records created before `cutoff_ms`: how many it deleted, or nullopt
    // if it failed.
    std::function<std::optional<std::int64_t>(std::int64_t cutoff_ms, std::int64_t rows)>
        delete_batch;
};

// Runs sweeps from construction until destruction, which interrupts the pause between batches.
// `clock` dates the records, as it did when they were written; it must outlive this.
class RetentionSweeper {
  public:
    RetentionSweeper(RetentionOptions options, const Clock& clock, SweepSteps steps)
        : options_(options), clock_(clock), steps_(std::move(steps)), thread_([this] { loop(); }) {}
    ~RetentionSweeper() {
        stop_.stop();
        thread_.join();
    }
    RetentionSweeper(const RetentionSweeper&) = delete;
    RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  private:
    void loop() {
        name_this_thread("retention");
        do {
            if (!steps_.may_sweep()) continue;
            const std::int64_t cutoff = clock_.unix_ms() - options_.retention.count();
            for (;;) {
                const auto deleted = steps_.delete_batch(cutoff, options_.batch_rows);
                if (!deleted || *deleted < options_.batch_rows || !stop_.wait(options_.pause))
                    break;
            }
        } while (stop_.wait(options_.interval));
    }

    const RetentionOptions options_;
    const Clock& clock_;
    const SweepSteps steps_;
    StopSignal stop_;
    std::thread thread_;  // last: it starts once the rest is built
};

}  // namespace ordinal::retention
