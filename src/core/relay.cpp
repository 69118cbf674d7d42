#include "core/relay.h"

#include <algorithm>

namespace ordinal {

Relay::Relay(WriteStore& store, Bus& bus, MetricsRegistry& metrics, RelayOptions options)
    : store_(store),
      bus_(bus),
      options_(options),
      published_(metrics.counter("ordinal_relay_events_published_total", "Outbox events published to the bus")),
      errors_(metrics.counter("ordinal_relay_errors_total", "Relay rounds that failed and will be retried")),
      position_gauge_(metrics.gauge("ordinal_relay_position", "Outbox sequence published up to")),
      in_flight_gauge_(metrics.gauge("ordinal_relay_batches_in_flight",
                                     "Batches handed to the bus and not yet marked published")),
      fetch_seconds_(metrics.histogram("ordinal_relay_fetch_duration_seconds",
                                       "Time to fetch one batch of pending events from the outbox")),
      mark_seconds_(metrics.histogram("ordinal_relay_mark_duration_seconds",
                                      "Time to mark one confirmed batch published in the outbox")),
      send_seconds_(metrics.histogram(
          "ordinal_relay_send_duration_seconds",
          "Time to hand one batch to the bus (Kafka: produce, not waiting for delivery reports)")) {
    if (options_.max_in_flight == 0) options_.max_in_flight = 1;
}

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

namespace {

double seconds_since(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

void Relay::on_settled() {
    {
        std::lock_guard lock(mu_);
        settled_ = true;
    }
    cv_.notify_all();
}

void Relay::abandon_in_flight() {
    // Destroying a publication detaches its callback; its messages may still land, before the
    // copies sent after the next fetch (the bus keeps the order batches were sent in).
    in_flight_.clear();
    sent_.clear();
    in_flight_gauge_.set(0);
}

bool Relay::settle() {
    while (!in_flight_.empty()) {
        InFlight& head = in_flight_.front();
        auto outcome = head.publication->outcome();
        if (!outcome) return true;  // still out; later batches wait behind it
        if (!*outcome) {
            // Batches sent after it are not marked either: marking them would leave the failed
            // batch behind a marked one, and on SQLite (a published watermark) skip it for good.
            errors_.inc();
            abandon_in_flight();
            return false;
        }
        const auto started = std::chrono::steady_clock::now();
        auto marked = store_.mark_published(head.events);
        mark_seconds_.observe(seconds_since(started));
        if (!marked) {
            // Published but not marked: the events go out again later; consumers skip them.
            errors_.inc();
            abandon_in_flight();
            return false;
        }
        published_.inc(head.events.size());
        published_seq_.store(head.events.back().seq);
        position_gauge_.set(static_cast<double>(head.events.back().seq));
        for (const StoredEvent& e : head.events) sent_.erase(e.seq);
        in_flight_.pop_front();
        in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
    }
    return true;
}

Relay::Step Relay::run_once(bool may_send) {
    if (!settle()) return Step::Failed;
    if (!may_send) return in_flight_.empty() ? Step::Idle : Step::Full;
    if (in_flight_.size() >= options_.max_in_flight) return Step::Full;

    // The events in flight are still pending in the store: fetch past them.
    const std::size_t limit = options_.batch_size + sent_.size();
    auto started = std::chrono::steady_clock::now();
    auto fetched = store_.fetch_pending(limit);
    fetch_seconds_.observe(seconds_since(started));
    if (!fetched) {
        errors_.inc();  // what is in flight stays; it is settled after the back-off
        return Step::Failed;
    }
    // A batch short of the limit took everything committed before the fetch; a commit after it
    // has woken the relay (woken_ was cleared before the fetch), so no round is needed to look
    // again. An event committed out of seq order (PostgreSQL) is simply in a later fetch.
    const bool more = fetched->size() >= limit;
    std::vector<StoredEvent> batch;
    batch.reserve(std::min(fetched->size(), options_.batch_size));
    for (StoredEvent& e : *fetched) {
        if (batch.size() >= options_.batch_size) break;
        if (!sent_.contains(e.seq)) batch.push_back(std::move(e));
    }
    if (batch.empty()) return Step::Idle;  // all pending is out already: wait for more

    started = std::chrono::steady_clock::now();
    auto publication = bus_.publish_async(batch, [this] { on_settled(); });
    send_seconds_.observe(seconds_since(started));
    for (const StoredEvent& e : batch) sent_.insert(e.seq);
    in_flight_.push_back(InFlight{std::move(batch), std::move(publication)});
    in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
    if (!settle()) return Step::Failed;  // a bus that confirms in place (in-process) is marked now
    if (!more) return Step::Idle;
    return in_flight_.size() >= options_.max_in_flight ? Step::Full : Step::More;
}

void Relay::drain_on_stop() {
    // Batches already sent are confirmed and marked if the bus answers in time, so the next
    // relay does not send them again; what is not confirmed by then stays unmarked.
    const auto deadline = std::chrono::steady_clock::now() + options_.stop_wait;
    while (!in_flight_.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !in_flight_.front().publication->wait(left)) break;
        if (!settle()) break;
    }
    abandon_in_flight();
}

void Relay::loop() {
    auto backoff = std::chrono::milliseconds(10);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        const bool hold = paused_ > 0;
        if (hold && in_flight_.empty()) {
            cv_.wait(lock, [this] { return stopping_ || paused_ == 0; });
            continue;
        }
        in_round_ = true;
        woken_ = false;
        settled_ = false;
        lock.unlock();
        const Step step = run_once(!hold);
        const bool out = !in_flight_.empty();
        lock.lock();
        in_round_ = out;
        if (!out) idle_cv_.notify_all();
        if (step == Step::Failed) {
            cv_.wait_for(lock, backoff, [this] { return stopping_; });
            backoff = std::min(backoff * 2, options_.max_backoff);
            continue;
        }
        backoff = std::chrono::milliseconds(10);
        if (step == Step::More) continue;
        if (step == Step::Full) {
            cv_.wait_for(lock, options_.idle_poll, [this] { return stopping_ || settled_; });
            continue;
        }
        if (options_.linger.count() > 0)
            cv_.wait_for(lock, options_.linger, [this] { return stopping_ || paused_ > 0; });
        cv_.wait_for(lock, options_.idle_poll,
                     [this] { return stopping_ || woken_ || settled_ || paused_ > 0; });
    }
    lock.unlock();
    drain_on_stop();
    lock.lock();
    in_round_ = false;
    idle_cv_.notify_all();
}

}  // namespace ordinal
