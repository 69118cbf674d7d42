#pragma once
// An EventConsumer that behaves like the projector over a read store (version guard, positions
// kept per partition) but keeps everything in memory, so adapter tests can see exactly what the
// bus handed over, and can be told to fail.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "ports/bus.h"

namespace ordinal::test {

class RecordingConsumer final : public EventConsumer {
  public:
    Expected<void, StoreError> consume(std::span<const Event>, const BusPosition&) override {
        return unexpected(StoreError{StoreError::Kind::Internal, "not used by Kafka"});
    }

    Expected<void, StoreError> consume_delivery(const Delivery& d,
                                                std::span<const std::int64_t>) override {
        std::lock_guard lock(mu_);
        ++deliveries_;
        if (fail_next_ > 0) {
            --fail_next_;
            return unexpected(StoreError{StoreError::Kind::Unavailable, "planted failure"});
        }
        for (const Event& e : d.events) {
            std::int64_t& have = applied_[e.stream];
            if (e.version <= have) {
                ++duplicates_;
            } else if (e.version == have + 1) {
                have = e.version;
                order_[e.stream].push_back(e.version);
                ++applied_count_;
            } else {
                ++gaps_;
            }
        }
        dead_.insert(dead_.end(), d.dead.begin(), d.dead.end());
        auto& pos = positions_[d.position.partition];
        pos = std::max(pos, d.position.offset);
        cv_.notify_all();
        return {};
    }

    // Not fenced: one consumer per test.
    Expected<std::int64_t, StoreError> claim_partition(const std::string&) override { return 0; }
    Expected<std::int64_t, StoreError> stored_position(const std::string& partition) override {
        std::lock_guard lock(mu_);
        auto it = positions_.find(partition);
        return it == positions_.end() ? 0 : it->second;
    }

    // Waits until `n` events have been applied in effect.
    bool wait_applied(std::size_t n, std::chrono::milliseconds within = std::chrono::seconds(30)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, within, [&] { return applied_count_ >= n; });
    }
    bool wait_dead(std::size_t n, std::chrono::milliseconds within = std::chrono::seconds(30)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, within, [&] { return dead_.size() >= n; });
    }

    void fail_next(int n) {
        std::lock_guard lock(mu_);
        fail_next_ = n;
    }
    std::size_t applied() {
        std::lock_guard lock(mu_);
        return applied_count_;
    }
    std::size_t duplicates() {
        std::lock_guard lock(mu_);
        return duplicates_;
    }
    std::size_t gaps() {
        std::lock_guard lock(mu_);
        return gaps_;
    }
    std::size_t deliveries() {
        std::lock_guard lock(mu_);
        return deliveries_;
    }
    std::map<StreamKey, std::vector<std::int64_t>> order() {
        std::lock_guard lock(mu_);
        return order_;
    }
    std::vector<DeadLetter> dead() {
        std::lock_guard lock(mu_);
        return dead_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<StreamKey, std::int64_t> applied_;
    std::map<StreamKey, std::vector<std::int64_t>> order_;
    std::map<std::string, std::int64_t> positions_;
    std::vector<DeadLetter> dead_;
    std::size_t applied_count_ = 0;
    std::size_t duplicates_ = 0;
    std::size_t gaps_ = 0;
    std::size_t deliveries_ = 0;
    int fail_next_ = 0;
};

}  // namespace ordinal::test
