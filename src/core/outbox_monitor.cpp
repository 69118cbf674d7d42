#include "core/outbox_monitor.h"

#include "ports/thread_name.h"

namespace ordinal {

OutboxMonitor::OutboxMonitor(MetricsRegistry& metrics, std::function<void(std::int64_t)> on_pending,
                             std::chrono::milliseconds stall_after,
                             std::function<void(const std::string&)> log)
    : pending_(metrics.gauge("ordinal_outbox_pending", "Committed events not yet published")),
      oldest_age_(metrics.gauge("ordinal_outbox_oldest_pending_age_seconds",
                                "Age of the oldest unpublished event")),
      stalled_gauge_(metrics.gauge("ordinal_outbox_stalled",
                                   "1 while the oldest unpublished event is older than "
                                   "--outbox-stall-ms: nothing is publishing")),
      on_pending_(std::move(on_pending)),
      stall_after_(stall_after),
      log_(std::move(log)) {}

OutboxMonitor::~OutboxMonitor() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (poller_.joinable()) poller_.join();
}

void OutboxMonitor::report(const OutboxStats& stats) {
    pending_.set(static_cast<double>(stats.pending));
    oldest_age_.set(static_cast<double>(stats.oldest_pending_age_ms) / 1000.0);
    oldest_age_ms_.store(stats.oldest_pending_age_ms);
    last_seq_.store(stats.last_seq);
    const bool stalled = stats.oldest_pending_age_ms > stall_after_.count();
    stalled_gauge_.set(stalled ? 1.0 : 0.0);
    if (stalled_.exchange(stalled) != stalled && log_) {
        log_(stalled ? "outbox stalled: " + std::to_string(stats.pending) +
                           " event(s) unpublished, the oldest for " +
                           std::to_string(stats.oldest_pending_age_ms) +
                           " ms; check the relay and the bus"
                     : std::string("outbox draining again"));
    }
    if (on_pending_) on_pending_(stats.pending);
}

void OutboxMonitor::start_polling(WriteStore& store, std::chrono::milliseconds interval) {
    poller_ = std::thread([this, &store, interval] {
        name_this_thread("outbox-monitor");
        std::unique_lock lock(mu_);
        while (!stopping_) {
            lock.unlock();
            // A failed read keeps the last figure: the store being down is reported elsewhere.
            if (auto stats = store.outbox_stats()) report(*stats);
            lock.lock();
            cv_.wait_for(lock, interval, [this] { return stopping_; });
        }
    });
}

}  // namespace ordinal
