#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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
    // Several partitions' deliveries of one poll (see ReadStore::apply_deliveries), so that they
    // can be applied together. On an error, part of them may have been applied: deliver each
    // again from the position the read store holds for its partition. The default hands them
    // to consume_delivery() one by one and stops at the first error.
    virtual Expected<void, StoreError> consume_deliveries(std::span<const DeliveryPart> parts) {
        for (const DeliveryPart& part : parts) {
            if (auto ok = consume_delivery(*part.delivery, part.offsets); !ok) return ok;
        }
        return {};
    }
    // Claims `partition` for this consumer (ReadStore::claim_partition): its owner epoch, which a
    // bus that can hand a partition to another consumer (Kafka) puts in each Delivery of it. A
    // delivery of a partition claimed since by another consumer is dropped, not stored. 0: this
    // consumer does not fence.
    virtual Expected<std::int64_t, StoreError> claim_partition(const std::string& partition) = 0;
    // Where the consumer has got to in `partition` (the next offset to read; 0 if nothing yet):
    // a bus that can replay (Kafka) starts each partition it is given there.
    virtual Expected<std::int64_t, StoreError> stored_position(const std::string& partition) = 0;
};

// A failure of the bus (down, timed out, a message refused): an infrastructure failure like a
// store's, with the same kinds and the same retry rule, so it shares StoreError's shape; the
// consumer side's failures above are the read store's own.
using BusError = StoreError;

// A batch handed to the bus whose outcome may not be known yet (Kafka: delivery reports still
// outstanding). Destroying it forgets the batch, not the messages: they may still land.
class Publication {
  public:
    virtual ~Publication() = default;
    // Empty while the outcome is outstanding; then success once the bus holds every event of the
    // batch durably, or the first error (part of the batch may have landed all the same).
    virtual std::optional<Expected<void, BusError>> outcome() = 0;
    // Blocks until outcome() is known, or `timeout` passed (then returns the empty outcome).
    virtual std::optional<Expected<void, BusError>> wait(std::chrono::milliseconds timeout) = 0;
};

// Carries outbox events from the relay to consumers. publish() returns once the bus has
// accepted the batch durably (or, for the in-process bus, once the consumer applied it); only
// then may the relay mark the events published. Delivery is at least once.
class Bus {
  public:
    virtual ~Bus() = default;
    virtual Expected<void, BusError> publish(std::span<const StoredEvent> events) = 0;
    // Hands the batch over and returns without waiting for the bus to confirm it, so the relay
    // can fetch and send the next batch meanwhile. Batches sent one after another keep their
    // order per stream on the bus. `settled` is called once the outcome is known, from any thread
    // and possibly before this returns; never after the Publication is destroyed. The default
    // publishes synchronously (a bus that applies in place, like the in-process one).
    virtual std::unique_ptr<Publication> publish_async(std::span<const StoredEvent> events,
                                                       std::function<void()> settled);
    // What this bus needs of the events handed to publish(): decoded (the default), or only
    // their stored envelopes (EventForm::Envelope, StoredEvent::as_stored), which a bus that
    // carries the envelope as bytes takes as well as a decoded event.
    virtual EventForm event_form() const { return EventForm::Decoded; }
    // Starts delivering to `consumer` (set once, before the first publish).
    virtual void subscribe(EventConsumer* consumer) = 0;
    virtual Expected<void, BusError> check_ready() = 0;
};

// A publication whose outcome was known when it was made.
class SettledPublication final : public Publication {
  public:
    explicit SettledPublication(Expected<void, BusError> outcome) : outcome_(std::move(outcome)) {}
    std::optional<Expected<void, BusError>> outcome() override { return outcome_; }
    std::optional<Expected<void, BusError>> wait(std::chrono::milliseconds) override {
        return outcome_;
    }

  private:
    Expected<void, BusError> outcome_;
};

inline std::unique_ptr<Publication> Bus::publish_async(std::span<const StoredEvent> events,
                                                       std::function<void()> settled) {
    auto done = std::make_unique<SettledPublication>(publish(events));
    if (settled) settled();
    return done;
}

}  // namespace ordinal
