#pragma once
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "core/consistency_gate.h"
#include "core/projection_sequencer.h"
#include "domain/thread_annotations.h"
#include "ports/bus.h"
#include "ports/log_record.h"
#include "ports/metrics.h"
#include "ports/read_store.h"

namespace ordinal {

// Applies bus deliveries to the read store (idempotently: the store skips versions it already
// has) and reports the streams that advanced to the consistency gate of this process.
//
// A delivery from a bus that may carry poison (consume_delivery) that fails for good (Internal)
// is taken apart: its messages are applied one at a time in offset order, each moving the
// position past itself, and one that still fails is dead-lettered, `encode_event`d, with the
// failure as its reason; the others go on. A retryable failure returns, to be delivered again.
// A delivery refused as fenced (a partition this projector no longer owns) is dropped, and the
// other partitions of its poll are stored without it.
class Projector : public EventConsumer {
  public:
    // `warn` gets one line per message the projector parks (its stream, version and why), so an
    // operator learns of a parked stream from the log as well as from status and metrics.
    // `applied` gets one line per event of each delivery stored (applied, or found applied
    // already: a redelivery; its stream, version, position
    // and the trace context it came with), so one order can be followed from the api's command
    // line through the bus to here.
    Projector(ReadStore& store, ConsistencyGate* gate, MetricsRegistry& metrics,
              EventEncoder encode_event, std::function<void(const std::string&)> warn = {},
              LogSink applied = {});
    Expected<void, StoreError> consume(std::span<const Event> events,
                                       const BusPosition& position) override;
    Expected<void, StoreError> consume_delivery(const Delivery& delivery,
                                                std::span<const std::int64_t> offsets) override;
    // One read-store transaction for the whole poll; if it fails for good, each partition is
    // applied alone as by consume_delivery() (so poison is taken apart there).
    Expected<void, StoreError> consume_deliveries(std::span<const DeliveryPart> parts) override;
    Expected<std::int64_t, StoreError> stored_position(const std::string& partition) override {
        return store_.bus_position(partition);
    }
    Expected<std::int64_t, StoreError> claim_partition(const std::string& partition) override {
        return store_.claim_partition(partition);
    }

  private:
    // A delivery the store refused as fenced (its partition claimed by another projector since):
    // dropped, counted, logged once per partition and epoch; the bus reads on.
    Expected<void, StoreError> drop_fenced(const Delivery& delivery, const StoreError& error);
    Expected<void, StoreError> take_apart(const Delivery& delivery,
                                          std::span<const std::int64_t> offsets);
    // Counts what one apply_delivery() did, tells the gate, and logs the dead letters the bus
    // gave (`given`), which that delivery stored.
    void record(const ProjectionResult& result, std::span<const DeadLetter> given);
    void warn_parked(const DeadLetter& letter);
    // Each event's age once its batch is committed: the projection lag readers feel.
    void observe_lag(std::span<const Event> events);
    // Each event's age as the bus hands it over, before its transaction: with observe_lag, it
    // splits the lag into the way to the projector and the projection itself.
    void observe_received(std::span<const Event> events);
    Expected<void, StoreError> project_delivery(const Delivery& delivery,
                                                std::span<const std::int64_t> offsets);
    // The `applied` lines of a delivery stored whole (`offsets` as given to consume_delivery).
    void log_applied(const Delivery& delivery, std::span<const std::int64_t> offsets);

    ReadStore& store_;
    ConsistencyGate* gate_;
    EventEncoder encode_event_;
    std::function<void(const std::string&)> warn_;
    LogSink applied_log_;
    Counter& applied_;
    Counter& skipped_;
    Counter& failures_;
    Counter& fenced_;
    std::mutex fenced_mu_;
    std::set<std::pair<std::string, std::int64_t>> fenced_logged_ GUARDED_BY(fenced_mu_);
    Counter& dead_from_bus_;  // undecodable, as the bus delivered them
    Counter& dead_blocked_;   // waiting behind an earlier dead letter of their stream
    Counter& dead_failed_;    // failed to apply
    Histogram& batch_latency_;
    Histogram& lag_;
    Histogram& received_;
    Gauge& position_;
};

}  // namespace ordinal
