#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "domain/consistency_token.h"
#include "domain/thread_annotations.h"
#include "ports/metrics.h"
#include "ports/read_store.h"
#include "ports/service_api.h"

namespace ordinal {

// Holds queries until the read model has reached a version vector. Waiters are woken by
// projection progress reported through notify() (projector in this process); when the projector
// runs elsewhere, poll_now() (a signal from the read store that something advanced, e.g.
// PostgreSQL LISTEN) and a bounded poll of the read store (poll_interval > 0) stand in for it.
// A waiter's first look at the store is not its own: wait() only registers it, and the next poll
// (the timer thread's, started at once, or a listener's) reads every waited-on stream in one query.
// Under load one query serves the first looks of many token reads, and wait() never blocks.
// Thread-safe. Callbacks run on the notifying thread, a polling thread or the gate's timer
// thread: keep them short.
class ConsistencyGate final : public ConsistencyWait {
  public:
    ConsistencyGate(ReadStore& store, std::chrono::milliseconds poll_interval);
    ~ConsistencyGate();  // completes every pending waiter with TimedOut
    ConsistencyGate(const ConsistencyGate&) = delete;
    ConsistencyGate& operator=(const ConsistencyGate&) = delete;

    void wait(const VersionVector& wanted, std::chrono::milliseconds max_wait, Done done) override;
    void notify(std::span<const std::pair<StreamKey, std::int64_t>> advanced);
    // Projection progress of unknown streams was committed: the timer thread re-reads the
    // streams of every waiter soon. Calls while a re-read is pending coalesce into it. Cheap and
    // non-blocking; any thread.
    void poll_now();
    // The same, done now on the calling thread (a listener's, which may block on the store):
    // saves waking the timer thread for each signal. Concurrent calls each read once.
    void poll();

    std::size_t waiting() const;
    // Each query the gate let through gets its time from wait() to Reached here (set once,
    // before the first wait).
    void observe_waits(Histogram& waits) { waits_ = &waits; }

  private:
    struct Waiter {
        VersionVector remaining;
        std::chrono::steady_clock::time_point started;
        std::chrono::steady_clock::time_point deadline;
        Done done;
        bool finished = false;
        // A poll has read the store since the waiter registered: only then may it time out, so a
        // short wait on versions already projected is Reached, never expired unread.
        bool looked = false;
    };
    using WaiterPtr = std::shared_ptr<Waiter>;

    void finish(const WaiterPtr& w, GateResult r);  // call without mu_ held
    void timer_loop();
    void poll_once();
    std::chrono::steady_clock::time_point next_deadline() const REQUIRES(mu_);
    void unregister(const WaiterPtr& w) REQUIRES(mu_);

    ReadStore& store_;
    const std::chrono::milliseconds poll_interval_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<StreamKey, std::list<WaiterPtr>> by_stream_ GUARDED_BY(mu_);
    std::multimap<std::chrono::steady_clock::time_point, WaiterPtr> by_deadline_ GUARDED_BY(mu_);
    bool stopping_ GUARDED_BY(mu_) = false;
    bool poll_requested_ GUARDED_BY(mu_) = false;
    std::vector<WaiterPtr> unlooked_ GUARDED_BY(mu_);  // registered since the last poll began
    Histogram* waits_ = nullptr;
    std::thread timer_;
};

}  // namespace ordinal
