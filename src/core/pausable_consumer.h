#pragma once
#include <mutex>
#include <shared_mutex>

#include "ports/bus.h"

namespace ordinal {

// Stands between a bus and its consumer so that a rebuild can hold deliveries off while it
// replays the log: pause() waits for a delivery under way to finish, and deliveries then wait
// until the returned lock is released. Where the relay runs in the same process it is paused
// too; a projector on Kafka has no relay beside it, and this is what keeps its consumer out of
// a read model being rebuilt.
class PausableConsumer final : public EventConsumer {
  public:
    explicit PausableConsumer(EventConsumer& inner) : inner_(inner) {}

    Expected<void, StoreError> consume(std::span<const Event> events,
                                       const BusPosition& position) override {
        std::shared_lock lock(mu_);
        return inner_.consume(events, position);
    }
    Expected<void, StoreError> consume_delivery(const Delivery& delivery,
                                                std::span<const std::int64_t> offsets) override {
        std::shared_lock lock(mu_);
        return inner_.consume_delivery(delivery, offsets);
    }
    Expected<void, StoreError> consume_deliveries(std::span<const DeliveryPart> parts) override {
        std::shared_lock lock(mu_);
        return inner_.consume_deliveries(parts);
    }
    Expected<std::int64_t, StoreError> stored_position(const std::string& partition) override {
        std::shared_lock lock(mu_);
        return inner_.stored_position(partition);
    }

    Expected<std::int64_t, StoreError> claim_partition(const std::string& partition) override {
        std::shared_lock lock(mu_);
        return inner_.claim_partition(partition);
    }

    [[nodiscard]] std::unique_lock<std::shared_mutex> pause() { return std::unique_lock(mu_); }

  private:
    EventConsumer& inner_;
    std::shared_mutex mu_;
};

}  // namespace ordinal
