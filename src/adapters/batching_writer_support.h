#pragma once
// What the write stores' batching writers (postgres/pg_batching_writer, sqlite/
// sqlite_batching_writer) share: the queues in front of their writer threads (submit, shed,
// take a batch, stop), the commit listener, and how they judge a command's outcome and hand it
// back. Header-only and library-free, so both adapters include it without including each other;
// each writer keeps only what is its own: its Job type, its routing, how it runs a batch.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "domain/thread_annotations.h"
#include "ports/command_types.h"
#include "ports/store_error.h"
#include "ports/thread_name.h"

namespace ordinal::writer_support {

// Whether the command's effects stay in the transaction (anything else is rolled back).
inline bool accepted(const CommandOutcome& outcome) {
    return std::holds_alternative<Acknowledgement>(outcome);
}

// Callbacks belong to callers; one that throws must not take the writer thread down.
template <class F>
void call_quietly(F&& f) noexcept {
    try {
        f();
    } catch (...) {
    }
}

struct LaneLimits {
    std::size_t lanes = 1;          // writer threads, one queue each
    std::size_t max_queue = 10000;  // sheddable jobs queued (over all lanes) beyond this are shed
    std::size_t max_batch = 128;    // jobs per batch
};

// The queues of a store's writer threads, one lane a thread, and the threads themselves.
//
// Per command, push() costs one lock, one deque push and, only when the lane's writer is
// waiting, one notify: each lane has its own condition variable, so a job wakes only the writer
// whose lane it joins, once (further jobs before it runs need no wake-up), and a busy writer
// finds them when its batch is done. take() hands over whatever queued meanwhile, up to
// max_batch, with no waiting for stragglers: a lone job pays one commit, a crowd shares one.
// Thread-safe.
template <class Job>
class WriterLanes {
  public:
    // `store` names the store in refusals ("postgres", "sqlite").
    WriterLanes(const std::string& store, LaneLimits limits)
        : limits_(limits),
          shutting_down_{StoreError::Kind::Unavailable, store + " write store is shutting down"},
          full_{StoreError::Kind::Overloaded, store + " write queue is full"} {
        if (limits_.lanes == 0) limits_.lanes = 1;
        if (limits_.max_batch == 0) limits_.max_batch = 1;
        for (std::size_t i = 0; i < limits_.lanes; ++i) lanes_.push_back(std::make_unique<Lane>());
    }
    ~WriterLanes() { stop(); }  // the owner stops first, to deliver what stop() hands back
    WriterLanes(const WriterLanes&) = delete;
    WriterLanes& operator=(const WriterLanes&) = delete;

    std::size_t lanes() const { return limits_.lanes; }

    // Runs `loop(lane)` on one thread a lane; `loop` returns once take() returns false.
    template <class Loop>
    void start(Loop loop) {
        for (std::size_t i = 0; i < limits_.lanes; ++i)
            threads_.emplace_back([loop, i] {
                name_this_thread("writer");
                loop(i);
            });
    }

    // Queues `job` on `lane` and returns nullopt, or leaves `job` as it was and returns why not:
    // Unavailable once stopping, Overloaded when the queue is full (only for a `sheddable` job:
    // work that drains the store, such as marking events published, is never shed) or memory
    // ran out.
    std::optional<StoreError> push(std::size_t lane, Job& job, bool sheddable = true) {
        Lane* wake = nullptr;
        {
            std::lock_guard lock(mu_);
            if (stopping_) return shutting_down_;
            if (sheddable && queued_ >= limits_.max_queue) return full_;
            Lane& l = *lanes_[lane];
            try {
                // strong guarantee: `job` intact on throw
                l.queue.push_back(Queued{std::move(job), sheddable});
            } catch (const std::bad_alloc&) {
                return StoreError{StoreError::Kind::Overloaded, "out of memory queueing a command"};
            }
            if (sheddable) ++queued_;
            if (l.waiting) {
                l.waiting = false;
                wake = &l;
            }
        }
        if (wake) wake->cv.notify_one();
        return std::nullopt;
    }

    // Waits for jobs on `lane` and moves up to max_batch of them into `batch` (cleared first; its
    // capacity is reused from batch to batch). False once stopping.
    bool take(std::size_t lane, std::vector<Job>& batch) {
        batch.clear();
        std::unique_lock lock(mu_);
        Lane& l = *lanes_[lane];
        l.waiting = true;
        l.cv.wait(lock, [&] { return stopping_ || !l.queue.empty(); });
        l.waiting = false;
        if (stopping_) return false;
        while (!l.queue.empty() && batch.size() < limits_.max_batch) {
            Queued& next = l.queue.front();
            if (next.sheddable) --queued_;
            batch.push_back(std::move(next.job));
            l.queue.pop_front();
        }
        return true;
    }

    // Lets batches in flight finish, joins the threads and hands back every job never started
    // (the owner fails them). Idempotent: a second call returns nothing.
    std::vector<Job> stop() {
        std::lock_guard stop_lock(stop_mu_);
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        for (auto& lane : lanes_) lane->cv.notify_all();
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
        std::vector<Job> rest;
        std::lock_guard lock(mu_);
        for (auto& lane : lanes_) {
            for (Queued& queued : lane->queue) rest.push_back(std::move(queued.job));
            lane->queue.clear();
        }
        queued_ = 0;
        return rest;
    }

    const StoreError& shutting_down() const { return shutting_down_; }

    void set_commit_listener(std::function<void()> listener) {
        std::lock_guard lock(mu_);
        commit_listener_ = std::move(listener);
    }

    // Runs the commit listener (on the calling writer thread), if one is set; once per batch
    // that appended events, not per command.
    void committed() {
        std::function<void()> listener;
        {
            std::lock_guard lock(mu_);
            listener = commit_listener_;
        }
        if (listener) call_quietly(listener);
    }

  private:
    struct Queued {
        Job job;
        bool sheddable;  // counts against max_queue (a command); upkeep does not
    };
    struct Lane {
        // Guarded by the enclosing WriterLanes' mu_ (which an annotation of a nested struct
        // cannot name).
        std::deque<Queued> queue;
        std::condition_variable cv;
        bool waiting = false;  // its writer waits in take(): the next push wakes it
    };

    LaneLimits limits_;               // fixed after construction
    const StoreError shutting_down_;  // the refusals, built once
    const StoreError full_;
    std::vector<std::unique_ptr<Lane>> lanes_;  // fixed after construction
    std::mutex mu_;
    // Sheddable jobs queued over all lanes: the queue limit is on commands, so work that drains
    // the store (marking published, retention) queued behind them never takes their room.
    std::size_t queued_ GUARDED_BY(mu_) = 0;
    bool stopping_ GUARDED_BY(mu_) = false;
    std::function<void()> commit_listener_ GUARDED_BY(mu_);
    std::mutex stop_mu_;  // serializes stop() callers
    std::vector<std::thread> threads_;
};

}  // namespace ordinal::writer_support
