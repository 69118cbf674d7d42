#include "core/relay.h"

#include <algorithm>

namespace ordinal {

Relay::Relay(WriteStore& store, Bus& bus, MetricsRegistry& metrics, RelayOptions options)
    : store_(store),
      bus_(bus),
      options_(options),
      published_(metrics.counter("ordinal_relay_events_published_total", "Outbox events published to the bus")),
      errors_(metrics.counter("ordinal_relay_errors_total", "Relay rounds that failed and will be retried")),
      position_gauge_(metrics.gauge("ordinal_relay_position", "Outbox sequence published up to")) {}

Relay::~Relay() { stop(); }

void Relay::start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
}

void Relay::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Relay::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_one();
}

void Relay::pause() {
    std::unique_lock lock(mu_);
    ++paused_;
    idle_cv_.wait(lock, [this] { return !in_round_; });
}

void Relay::resume() {
    {
        std::lock_guard lock(mu_);
        --paused_;
    }
    cv_.notify_all();
}

bool Relay::run_once() {
    auto batch = store_.fetch_pending(options_.batch_size);
    if (!batch) {
        errors_.inc();
        return false;
    }
    if (!batch->empty()) {
        auto sent = bus_.publish(*batch);
        if (!sent) {
            errors_.inc();
            return false;
        }
        auto marked = store_.mark_published(*batch);
        if (!marked) {
            // Published but not marked: the events go out again later; consumers skip them.
            errors_.inc();
            return false;
        }
        published_.inc(batch->size());
        published_seq_.store(batch->back().seq);
        position_gauge_.set(static_cast<double>(batch->back().seq));
    }
    // A batch short of the limit took everything committed before the fetch; a commit after it
    // has woken the relay (woken_ was cleared before the fetch), so no round is needed to look
    // again.
    return batch->size() >= options_.batch_size;
}

void Relay::loop() {
    auto backoff = std::chrono::milliseconds(10);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (paused_ > 0) {
            cv_.wait(lock, [this] { return stopping_ || paused_ == 0; });
            continue;
        }
        in_round_ = true;
        woken_ = false;
        lock.unlock();
        auto errors_before = errors_.value();
        const bool busy = run_once();
        const bool failed = errors_.value() != errors_before;
        lock.lock();
        in_round_ = false;
        idle_cv_.notify_all();
        if (failed) {
            cv_.wait_for(lock, backoff, [this] { return stopping_; });
            backoff = std::min(backoff * 2, options_.max_backoff);
            continue;
        }
        backoff = std::chrono::milliseconds(10);
        if (busy) continue;
        if (options_.linger.count() > 0)
            cv_.wait_for(lock, options_.linger, [this] { return stopping_ || paused_ > 0; });
        cv_.wait_for(lock, options_.idle_poll, [this] { return stopping_ || woken_ || paused_ > 0; });
    }
}

}  // namespace ordinal
