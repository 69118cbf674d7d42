#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "domain/thread_annotations.h"
#include "ports/thread_name.h"

namespace ordinal {

// A blocking probe (of the stores, say) whose callers wait for its answer at most `bound`. The
// probe runs on a thread of its own, one run at a time: a caller that finds a run under way waits
// for that run instead of starting another, so a store that stopped answering (a host cut off, a
// server stopped with SIGSTOP: TCP still answers, queries never do) holds this one thread, never
// one per scrape or health check, and every caller gets an answer in time — the probe's, or
// nothing, which says the probe stalled. The destructor waits for a run under way.
template <class T>
class BoundedProbe {
  public:
    BoundedProbe(std::function<T()> probe, std::chrono::milliseconds bound)
        : probe_(std::move(probe)), bound_(bound), thread_([this] { run(); }) {}
    ~BoundedProbe() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    BoundedProbe(const BoundedProbe&) = delete;
    BoundedProbe& operator=(const BoundedProbe&) = delete;

    // The answer of a run that began no earlier than the run under way at the call (or a new
    // one), or nullopt when it did not come within the bound.
    std::optional<T> get() {
        std::unique_lock lock(mu_);
        if (!running_) {
            running_ = true;
            started_ = std::chrono::steady_clock::now();
            ++requested_;
            cv_.notify_all();
        }
        const std::uint64_t wanted = requested_;
        if (!cv_.wait_for(lock, bound_, [&] { return finished_ >= wanted; })) return std::nullopt;
        return answer_;
    }

    // How long the run under way has been running (zero when none is).
    std::chrono::steady_clock::duration running_for() {
        std::lock_guard lock(mu_);
        return running_ ? std::chrono::steady_clock::now() - started_
                        : std::chrono::steady_clock::duration::zero();
    }

    std::chrono::milliseconds bound() const { return bound_; }

  private:
    void run() {
        name_this_thread("store-probe");
        std::unique_lock lock(mu_);
        while (true) {
            cv_.wait(lock, [&] { return stopping_ || requested_ > finished_; });
            if (stopping_) return;
            const std::uint64_t serving = requested_;
            lock.unlock();
            T answer = probe_();
            lock.lock();
            answer_ = std::move(answer);
            finished_ = serving;
            running_ = false;
            cv_.notify_all();
        }
    }

    std::function<T()> probe_;
    const std::chrono::milliseconds bound_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ GUARDED_BY(mu_) = false;
    bool running_ GUARDED_BY(mu_) = false;
    std::uint64_t requested_ GUARDED_BY(mu_) = 0;                    // runs asked for
    std::uint64_t finished_ GUARDED_BY(mu_) = 0;                     // the last run's number
    std::chrono::steady_clock::time_point started_ GUARDED_BY(mu_);  // of the run under way
    std::optional<T> answer_ GUARDED_BY(mu_);                        // the last run's
    std::thread thread_;  // last: starts once the rest is built
};

}  // namespace ordinal
