#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "core/metrics.h"
#include "ports/bus.h"
#include "ports/write_store.h"

namespace ordinal {

struct RelayOptions {
    std::size_t batch_size = 512;
    std::chrono::milliseconds idle_poll{50};        // when no commit notification arrives
    std::chrono::milliseconds max_backoff{2000};    // transient bus/store errors are retried forever
    // After a round short of a full batch, the next starts no sooner than this: every round is
    // a marking commit and a projection commit, and without a pause a busy store is relayed in
    // many small rounds whose commits compete with the writers' for the WAL.
    std::chrono::milliseconds linger{5};
};

// Publishes committed outbox events to the bus in outbox order and marks them published only
// after the bus accepted them. Never drops an event; may publish one twice after a crash. Several
// relays may share one outbox: each publishes what its store's fetch_pending hands it (the
// partitions it owns), so the relay itself needs no coordination.
class Relay {
public:
    Relay(WriteStore& store, Bus& bus, MetricsRegistry& metrics, RelayOptions options);
    ~Relay();
    void start();
    void stop();
    void wake();  // a commit happened
    // Holds the relay between batches (for a projection rebuild); resume() lets it go on.
    void pause();
    void resume();
    std::int64_t published_seq() const { return published_seq_.load(); }

private:
    void loop();
    bool run_once();  // true if more may be pending already (it published a full batch)

    WriteStore& store_;
    Bus& bus_;
    RelayOptions options_;
    Counter& published_;
    Counter& errors_;
    Gauge& position_gauge_;

    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ = false;     // guarded by mu_
    bool stopping_ = false;  // guarded by mu_
    int paused_ = 0;         // guarded by mu_
    bool in_round_ = false;  // guarded by mu_
    std::condition_variable idle_cv_;
    std::atomic<std::int64_t> published_seq_{0};
    std::thread thread_;
};

}  // namespace ordinal
