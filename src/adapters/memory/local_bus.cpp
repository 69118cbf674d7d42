#include "adapters/memory/local_bus.h"

#include <atomic>
#include <vector>

namespace ordinal {
namespace {

class LocalBus final : public Bus {
  public:
    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        EventConsumer* consumer = consumer_.load();
        if (!consumer)
            return unexpected(
                StoreError{StoreError::Kind::Unavailable, "no projector in this process"});
        if (events.empty()) return {};
        std::vector<std::int64_t> offsets;
        const Delivery delivery = local_delivery(events, offsets);
        return consumer->consume_delivery(delivery, offsets);
    }
    void subscribe(EventConsumer* consumer) override { consumer_.store(consumer); }
    Expected<void, StoreError> check_ready() override { return {}; }

  private:
    std::atomic<EventConsumer*> consumer_{nullptr};
};

}  // namespace

Delivery local_delivery(std::span<const StoredEvent> events, std::vector<std::int64_t>& offsets) {
    Delivery out;
    offsets.clear();
    for (const StoredEvent& e : events) {
        const std::int64_t offset = e.seq - 1;
        if (e.undecoded) {
            DeadLetter letter;
            letter.position = BusPosition{"local", offset};
            letter.stream = e.undecoded->stream;
            letter.version = e.event.version;
            letter.event_type = e.undecoded->type;
            letter.payload = e.undecoded->envelope;
            letter.reason = e.undecoded->reason;
            out.dead.push_back(std::move(letter));
        } else {
            out.events.push_back(e.event);
            out.traces.push_back(e.trace);
            offsets.push_back(offset);
        }
    }
    out.position = BusPosition{"local", events.empty() ? 0 : events.back().seq};
    out.in_order = true;
    return out;
}

std::unique_ptr<Bus> make_local_bus() {
    return std::make_unique<LocalBus>();
}

}  // namespace ordinal
