#pragma once
#include <functional>
#include <span>

#include "domain/expected.h"
#include "ports/read_store.h"
#include "ports/store_error.h"
#include "ports/write_store.h"

namespace ordinal {

// Receives events from the bus: the projector. Returns an error if the batch was not applied;
// the bus then delivers it again.
class EventConsumer {
  public:
    virtual ~EventConsumer() = default;
    virtual Expected<void, StoreError> consume(std::span<const Event> events,
                                               const BusPosition& position) = 0;
    // From a bus that may deliver gaps and undecodable messages (Kafka): see
    // ReadStore::apply_delivery. `offsets[i]` is the bus offset of `delivery.events[i]`, so a
    // batch that fails to apply can be taken apart and only the event that fails dead-lettered.
    // On an error, part of the delivery may have been applied: deliver again from the position
    // the read store holds for the partition (ReadStore::bus_position).
    virtual Expected<void, StoreError> consume_delivery(const Delivery& delivery,
                                                        std::span<const std::int64_t> offsets) = 0;
    // Where the consumer has got to in `partition` (the next offset to read; 0 if nothing yet):
    // a bus that can replay (Kafka) starts each partition it is given there.
    virtual Expected<std::int64_t, StoreError> stored_position(const std::string& partition) = 0;
};

// Carries outbox events from the relay to consumers. publish() returns once the bus has
// accepted the batch durably (or, for the in-process bus, once the consumer applied it); only
// then may the relay mark the events published. Delivery is at least once.
class Bus {
  public:
    virtual ~Bus() = default;
    virtual Expected<void, StoreError> publish(std::span<const StoredEvent> events) = 0;
    // Starts delivering to `consumer` (set once, before the first publish).
    virtual void subscribe(EventConsumer* consumer) = 0;
    virtual Expected<void, StoreError> check_ready() = 0;
};

}  // namespace ordinal
