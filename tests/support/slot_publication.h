#pragma once
// A Publication whose outcome a fake bus sets when it pleases: late, out of order, failed.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "ports/bus.h"

namespace ordinal::test_support {

struct PublicationSlot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Expected<void, StoreError>> outcome;
    std::function<void()> settled;  // the relay's callback; cleared when the publication goes

    // Sets the outcome and calls the callback, as a bus's delivery report would.
    void settle(Expected<void, StoreError> result) {
        std::lock_guard lock(mu);
        outcome = std::move(result);
        cv.notify_all();
        if (settled) settled();
    }
};

class SlotPublication final : public Publication {
  public:
    explicit SlotPublication(std::shared_ptr<PublicationSlot> slot) : slot_(std::move(slot)) {}
    ~SlotPublication() override {
        std::lock_guard lock(slot_->mu);
        slot_->settled = nullptr;
    }
    std::optional<Expected<void, StoreError>> outcome() override {
        std::lock_guard lock(slot_->mu);
        return slot_->outcome;
    }
    std::optional<Expected<void, StoreError>> wait(std::chrono::milliseconds timeout) override {
        std::unique_lock lock(slot_->mu);
        slot_->cv.wait_for(lock, timeout, [this] { return slot_->outcome.has_value(); });
        return slot_->outcome;
    }

  private:
    std::shared_ptr<PublicationSlot> slot_;
};

}  // namespace ordinal::test_support
