#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "domain/thread_annotations.h"
#include "ports/metrics.h"
#include "ports/write_store.h"

namespace ordinal {

// The outbox depth as every process that writes commands needs to know it: for the gauges, and
// for the command service's backpressure bound. The write store is polled in every process that
// has one, whether or not a relay runs there and whether or not its rounds succeed, so the
// gauges move and backpressure engages while the bus or the read store is away. (The relay
// reports nothing itself: one poll per process is the whole cost of the figure.)
//
// The outbox is stalled while its oldest unpublished event is older than `stall_after`: nothing
// publishes (no relay, a relay failing every round, a bus that is away). The monitor says so in
// a gauge and in stalled(), and logs one line when a stall starts and one when it ends.
class OutboxMonitor {
  public:
    OutboxMonitor(MetricsRegistry& metrics, std::function<void(std::int64_t pending)> on_pending,
                  std::chrono::milliseconds stall_after = std::chrono::seconds(30),
                  std::function<void(const std::string&)> log = {});
    ~OutboxMonitor();

    void report(const OutboxStats& stats);
    void start_polling(WriteStore& store, std::chrono::milliseconds interval);

    bool stalled() const { return stalled_.load(); }
    std::int64_t oldest_pending_age_ms() const { return oldest_age_ms_.load(); }
    // The outbox's last sequence at the last poll (the in-process bus's end); none before one.
    std::optional<std::int64_t> last_seq() const {
        const auto seq = last_seq_.load();
        return seq < 0 ? std::nullopt : std::optional<std::int64_t>(seq);
    }

  private:
    Gauge& pending_;
    Gauge& oldest_age_;
    Gauge& stalled_gauge_;
    std::function<void(std::int64_t)> on_pending_;
    std::chrono::milliseconds stall_after_;
    std::function<void(const std::string&)> log_;
    std::atomic<bool> stalled_{false};
    std::atomic<std::int64_t> oldest_age_ms_{0};
    std::atomic<std::int64_t> last_seq_{-1};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ GUARDED_BY(mu_) = false;
    std::thread poller_;
};

}  // namespace ordinal
