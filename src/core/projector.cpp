#include "core/projector.h"

#include <chrono>

namespace ordinal {

Projector::Projector(ReadStore& store, ConsistencyGate* gate, MetricsRegistry& metrics)
    : store_(store),
      gate_(gate),
      applied_(metrics.counter("ordinal_projection_events_applied_total", "Events applied to the read model")),
      skipped_(metrics.counter("ordinal_projection_events_skipped_total",
                               "Redelivered events skipped because their stream version was already applied")),
      failures_(metrics.counter("ordinal_projection_failures_total", "Projection batches that failed and will be retried")),
      batch_latency_(metrics.histogram("ordinal_projection_batch_duration_seconds", "Read-store transaction time per batch")),
      position_(metrics.gauge("ordinal_projection_position", "Bus position the projector has applied up to")) {}

Expected<void, StoreError> Projector::consume(std::span<const Event> events, const BusPosition& position) {
    const auto started = std::chrono::steady_clock::now();
    auto result = store_.apply(events, position);
    if (!result) {
        failures_.inc();
        return unexpected(result.error());
    }
    batch_latency_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    applied_.inc(result->applied);
    skipped_.inc(result->skipped);
    position_.set(static_cast<double>(position.offset));
    if (gate_ && !result->advanced.empty()) gate_->notify(result->advanced);
    return {};
}

}  // namespace ordinal
