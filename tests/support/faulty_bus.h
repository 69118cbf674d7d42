#pragma once
// Buses that misbehave on purpose, for tests of the relay and the projector: FlakyBus loses
// publishes and reports delivered ones as failed (duplicates), LateReportingBus also reports
// outcomes late and out of order (reorders); both are seeded, so a run is repeatable. ManualBus
// confirms, fails or reorders batches exactly when the test says.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/memory/local_bus.h"
#include "ports/bus.h"
#include "support/slot_publication.h"

namespace ordinal::test_support {

// Wraps the in-process bus: some publishes fail before delivery (lost), some deliver and then
// report failure (so the relay publishes the batch again: a duplicate delivery).
class FlakyBus final : public Bus {
  public:
    explicit FlakyBus(std::unique_ptr<Bus> inner) : inner_(std::move(inner)) {}
    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        const int roll = static_cast<int>(rng_() % 10);
        if (roll < 2) {
            ++dropped;
            return unexpected(
                StoreError{StoreError::Kind::Unavailable, "injected: lost before delivery"});
        }
        auto r = inner_->publish(events);
        if (r && roll < 4) {
            ++duplicated;
            return unexpected(
                StoreError{StoreError::Kind::Timeout, "injected: delivered, ack lost"});
        }
        return r;
    }
    void subscribe(EventConsumer* c) override { inner_->subscribe(c); }
    Expected<void, StoreError> check_ready() override { return {}; }
    std::atomic<int> dropped{0}, duplicated{0};

  private:
    std::unique_ptr<Bus> inner_;
    std::mt19937 rng_{42};
};

// A bus like Kafka seen from the relay: batches are delivered to the projector in the order they
// were sent (a partition's order), as deliveries that may have gaps (in_order = false), but their
// outcomes are reported late and out of order; some batches are lost (reported failed, not
// delivered), some delivered and reported failed. The relay meanwhile has further batches out.
class LateReportingBus final : public Bus {
  public:
    LateReportingBus() : worker_([this] { work(); }) {}
    ~LateReportingBus() override {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    Expected<void, StoreError> publish(std::span<const StoredEvent>) override {
        return unexpected(StoreError{StoreError::Kind::Internal, "the relay sends asynchronously"});
    }
    std::unique_ptr<Publication> publish_async(std::span<const StoredEvent> events,
                                               std::function<void()> settled) override {
        auto slot = std::make_shared<PublicationSlot>();
        slot->settled = std::move(settled);
        {
            std::lock_guard lock(mu_);
            queue_.push_back(Job{std::vector<StoredEvent>(events.begin(), events.end()), slot});
            ++sent_batches;
        }
        cv_.notify_all();
        return std::make_unique<SlotPublication>(slot);
    }
    void subscribe(EventConsumer* c) override { consumer_ = c; }
    Expected<void, StoreError> check_ready() override { return {}; }

    std::atomic<int> lost{0}, duplicated{0}, reordered{0}, sent_batches{0};

  private:
    struct Job {
        std::vector<StoredEvent> events;
        std::shared_ptr<PublicationSlot> slot;
    };

    // Delivers one batch, as Kafka would hand its messages over: fresh offsets in one partition.
    Expected<void, StoreError> deliver(const std::vector<StoredEvent>& events) {
        std::vector<std::int64_t> offsets;
        Delivery d = local_delivery(events, offsets);
        for (auto& o : offsets) o = next_offset_++;
        d.position = BusPosition{"p0", next_offset_};
        d.in_order = false;
        return consumer_->consume_delivery(d, offsets);
    }

    void work() {
        std::vector<std::pair<std::shared_ptr<PublicationSlot>, Expected<void, StoreError>>>
            unreported;
        std::unique_lock lock(mu_);
        while (true) {
            cv_.wait_for(lock, std::chrono::milliseconds(2),
                         [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) break;
            if (queue_.empty()) {
                // Nothing new: report what is held back, newest first.
                lock.unlock();
                if (unreported.size() > 1) ++reordered;
                for (auto it = unreported.rbegin(); it != unreported.rend(); ++it)
                    it->first->settle(std::move(it->second));
                unreported.clear();
                lock.lock();
                continue;
            }
            Job job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            const int roll = static_cast<int>(rng_() % 10);
            Expected<void, StoreError> outcome;
            if (roll < 2) {
                ++lost;
                outcome = unexpected(StoreError{StoreError::Kind::Unavailable, "injected: lost"});
            } else {
                outcome = deliver(job.events);
                if (outcome && roll < 3) {
                    ++duplicated;
                    outcome = unexpected(
                        StoreError{StoreError::Kind::Timeout, "injected: delivered, report lost"});
                }
            }
            unreported.emplace_back(job.slot, std::move(outcome));
            lock.lock();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    EventConsumer* consumer_ = nullptr;
    std::int64_t next_offset_ = 0;  // the worker's
    std::mt19937 rng_{7};
    std::thread worker_;
};

// A bus whose batches are confirmed (or failed) when the test says, in any order; or at once
// once auto_confirm() is on. What "landed" is the messages of every batch confirmed good, in the
// order the batches were sent (Kafka keeps a partition in the order messages were produced).
class ManualBus final : public Bus {
  public:
    Expected<void, StoreError> publish(std::span<const StoredEvent>) override {
        return unexpected(StoreError{StoreError::Kind::Internal, "the relay sends asynchronously"});
    }
    std::unique_ptr<Publication> publish_async(std::span<const StoredEvent> events,
                                               std::function<void()> settled) override {
        auto slot = std::make_shared<PublicationSlot>();
        slot->settled = std::move(settled);
        bool confirm_now = false;
        std::size_t index = 0;
        {
            std::lock_guard lock(mu_);
            sent_.push_back(Sent{std::vector<StoredEvent>(events.begin(), events.end()), slot});
            index = sent_.size() - 1;
            confirm_now = auto_confirm_;
            cv_.notify_all();
        }
        auto publication = std::make_unique<SlotPublication>(slot);
        if (confirm_now) settle(index, {});
        return publication;
    }
    void subscribe(EventConsumer*) override {}
    Expected<void, StoreError> check_ready() override { return {}; }
    EventForm event_form() const override { return form_; }
    void set_event_form(EventForm form) { form_ = form; }  // before the relay starts

    void settle(std::size_t index, Expected<void, StoreError> outcome) {
        std::shared_ptr<PublicationSlot> slot;
        {
            std::lock_guard lock(mu_);
            slot = sent_.at(index).slot;
        }
        slot->settle(std::move(outcome));
    }
    void fail(std::size_t index) {
        settle(index,
               unexpected(StoreError{StoreError::Kind::Unavailable, "planted: not delivered"}));
    }
    void auto_confirm() {
        std::lock_guard lock(mu_);
        auto_confirm_ = true;
    }
    bool wait_sent(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return sent_.size() >= n; });
    }
    std::size_t batches_sent() {
        std::lock_guard lock(mu_);
        return sent_.size();
    }
    std::vector<std::int64_t> seqs_of(std::size_t index) {
        std::lock_guard lock(mu_);
        std::vector<std::int64_t> out;
        for (const StoredEvent& e : sent_.at(index).events) out.push_back(e.seq);
        return out;
    }
    // How many times each seq was sent.
    std::map<std::int64_t, int> send_counts() {
        std::lock_guard lock(mu_);
        std::map<std::int64_t, int> out;
        for (const Sent& s : sent_)
            for (const StoredEvent& e : s.events) ++out[e.seq];
        return out;
    }
    // What a projector applies from the landed messages: a stream's next version is applied,
    // anything else (an earlier copy, a gap) skipped. Its last version per stream.
    std::map<std::string, std::int64_t> projected() {
        std::lock_guard lock(mu_);
        std::map<std::string, std::int64_t> last;
        for (const Sent& s : sent_) {
            std::lock_guard slot_lock(s.slot->mu);
            if (!s.slot->outcome || !*s.slot->outcome) continue;
            for (const StoredEvent& e : s.events) {
                auto& have = last[e.event.stream.id];
                if (e.event.version == have + 1) have = e.event.version;
            }
        }
        return last;
    }

  private:
    struct Sent {
        std::vector<StoredEvent> events;
        std::shared_ptr<PublicationSlot> slot;
    };
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Sent> sent_;
    bool auto_confirm_ = false;
    EventForm form_ = EventForm::Decoded;
};

}  // namespace ordinal::test_support
