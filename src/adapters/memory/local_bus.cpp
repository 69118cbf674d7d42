#include "adapters/memory/local_bus.h"

#include <atomic>
#include <vector>

namespace ordinal {
namespace {

class LocalBus final : public Bus {
public:
    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        EventConsumer* consumer = consumer_.load();
        if (!consumer) return unexpected(StoreError{StoreError::Kind::Unavailable, "no projector in this process"});
        if (events.empty()) return {};
        std::vector<Event> batch;
        batch.reserve(events.size());
        for (const auto& e : events) batch.push_back(e.event);
        return consumer->consume(batch, BusPosition{"local", events.back().seq});
    }
    void subscribe(EventConsumer* consumer) override { consumer_.store(consumer); }
    Expected<void, StoreError> check_ready() override { return {}; }

private:
    std::atomic<EventConsumer*> consumer_{nullptr};
};

}  // namespace

std::unique_ptr<Bus> make_local_bus() { return std::make_unique<LocalBus>(); }

}  // namespace ordinal
