#pragma once
#include "core/consistency_gate.h"
#include "core/metrics.h"
#include "ports/bus.h"
#include "ports/read_store.h"

namespace ordinal {

// Applies bus deliveries to the read store (idempotently: the store skips versions it already
// has) and reports the streams that advanced to the consistency gate of this process.
class Projector : public EventConsumer {
public:
    Projector(ReadStore& store, ConsistencyGate* gate, MetricsRegistry& metrics);
    Expected<void, StoreError> consume(std::span<const Event> events, const BusPosition& position) override;

private:
    ReadStore& store_;
    ConsistencyGate* gate_;
    Counter& applied_;
    Counter& skipped_;
    Counter& failures_;
    Histogram& batch_latency_;
    Gauge& position_;
};

}  // namespace ordinal
