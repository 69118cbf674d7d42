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
    virtual Expected<void, StoreError> consume(std::span<const Event> events, const BusPosition& position) = 0;
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
