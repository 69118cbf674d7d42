#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/metrics.h"
#include "ports/write_store.h"

namespace ordinal {

// The outbox depth as every process that writes commands needs to know it: for the gauges, and
// for the command service's backpressure bound. A relay reports what it sees after each round;
// an api process without a relay (the relay runs elsewhere) polls the write store instead, so
// backpressure still engages when the bus is away.
class OutboxMonitor {
public:
    OutboxMonitor(MetricsRegistry& metrics, std::function<void(std::int64_t pending)> on_pending);
    ~OutboxMonitor();

    void report(const OutboxStats& stats);
    void start_polling(WriteStore& store, std::chrono::milliseconds interval);

private:
    Gauge& pending_;
    Gauge& oldest_age_;
    std::function<void(std::int64_t)> on_pending_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;  // guarded by mu_
    std::thread poller_;
};

}  // namespace ordinal
