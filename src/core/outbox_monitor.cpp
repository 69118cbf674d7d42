#include "core/outbox_monitor.h"

namespace ordinal {

OutboxMonitor::OutboxMonitor(MetricsRegistry& metrics, std::function<void(std::int64_t)> on_pending)
    : pending_(metrics.gauge("ordinal_outbox_pending", "Committed events not yet published")),
      oldest_age_(metrics.gauge("ordinal_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished event")),
      on_pending_(std::move(on_pending)) {}

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
    if (on_pending_) on_pending_(stats.pending);
}

void OutboxMonitor::start_polling(WriteStore& store, std::chrono::milliseconds interval) {
    poller_ = std::thread([this, &store, interval] {
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
