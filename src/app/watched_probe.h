#pragma once
// A check of the stores that /readyz, /metrics or the admin status run, bounded (core/
// bounded_probe.h) and watched: when it gets no answer within its bound, the gauge
// ordinal_probe_stalled{probe=NAME} says 1 and one warning is logged; when it answers again, the
// gauge says 0 and one line says so. A stall is a failure too: the answer a caller gets meanwhile
// says so (the caller decides how: /readyz not ready, stale gauges, a status without the stores).
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/bounded_probe.h"
#include "ports/metrics.h"

namespace ordinal {

template <class T>
class WatchedProbe {
  public:
    WatchedProbe(std::string name, std::function<T()> probe, std::chrono::milliseconds bound,
                 MetricsRegistry& metrics)
        : name_(std::move(name)),
          stalled_gauge_(metrics.gauge("ordinal_probe_stalled",
                                       "1 while a check of the stores (readiness, the gauges read "
                                       "from the stores, the admin status) has had no answer "
                                       "within its bound: a store is stalled or unreachable",
                                       {{"probe", name_}})),
          probe_(std::move(probe), bound) {}

    std::optional<T> get() {
        auto answer = probe_.get();
        const bool stalled = !answer;
        if (stalled_.exchange(stalled) != stalled) {
            stalled_gauge_.set(stalled ? 1 : 0);
            if (stalled) {
                spdlog::warn("{}; answered without the stores until they answer", stall_detail());
            } else {
                spdlog::info("the {} check of the stores answers again", name_);
            }
        }
        return answer;
    }

    // For the answer given without the probe's: what stalled and for how long.
    std::string stall_detail() {
        const auto running =
            std::chrono::duration_cast<std::chrono::seconds>(probe_.running_for()).count();
        return "the stores gave the " + name_ + " check no answer within " +
               std::to_string(probe_.bound().count()) + " ms (running for " +
               std::to_string(running) + " s): a store is stalled or unreachable";
    }

  private:
    std::string name_;
    Gauge& stalled_gauge_;
    std::atomic<bool> stalled_{false};
    BoundedProbe<T> probe_;
};

}  // namespace ordinal
