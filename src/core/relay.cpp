#include "core/relay.h"

#include <algorithm>
#include <iterator>

#include "core/event_age.h"
#include "ports/thread_name.h"

namespace ordinal {

Relay::Relay(WriteStore& store, Bus& bus, MetricsRegistry& metrics, RelayOptions options)
    : store_(store),
      bus_(bus),
      options_(options),
      published_(metrics.counter("ordinal_relay_events_published_total",
                                 "Outbox events published to the bus")),
      errors_(metrics.counter("ordinal_relay_errors_total",
                              "Relay rounds that failed and will be retried")),
      position_gauge_(metrics.gauge("ordinal_relay_position", "Outbox sequence published up to")),
      in_flight_gauge_(metrics.gauge("ordinal_relay_batches_in_flight",
                                     "Batches handed to the bus and not yet marked published")),
      fetch_seconds_(
          metrics.histogram("ordinal_relay_fetch_duration_seconds",
                            "Time to fetch one batch of pending events from the outbox")),
      mark_seconds_(metrics.histogram("ordinal_relay_mark_duration_seconds",
                                      "Time to mark one confirmed batch published in the outbox")),
      send_seconds_(metrics.histogram(
          "ordinal_relay_send_duration_seconds",
          "Time to hand one batch to the bus (Kafka: produce, not waiting for delivery reports)")),
      event_age_(metrics.histogram(
          "ordinal_relay_event_age_seconds",
          "Time from an event's command (its occurred_at) to its hand-over to the bus", {},
          lag_buckets())) {
    if (options_.max_in_flight == 0) options_.max_in_flight = 1;
}

Relay::~Relay() {
    stop();
}

void Relay::start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    marker_stopping_ = false;
    restart_after_failure();  // a previous run may have ended with batches dropped
    thread_ = std::thread([this] { loop(); });
    marker_ = std::thread([this] { mark_loop(); });
}

void Relay::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
        // Batches already sent are confirmed and marked if the bus answers in time, so the next
        // relay does not send them again; what is not confirmed by then stays unmarked.
        std::lock_guard lock(mu_);
        marker_stopping_ = true;
        marker_deadline_ = std::chrono::steady_clock::now() + options_.stop_wait;
    }
    cv_.notify_all();
    if (marker_.joinable()) marker_.join();
}

void Relay::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

void Relay::pause() {
    std::unique_lock lock(mu_);
    ++paused_;
    idle_cv_.wait(lock, [this] { return !in_round_ && in_flight_.empty(); });
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

void Relay::mark_loop() {
    name_this_thread("relay-marker");
    std::unique_lock lock(mu_);
    while (true) {
        if (in_flight_.empty()) {
            idle_cv_.notify_all();
            if (marker_stopping_) return;
            cv_.wait(lock, [this] { return marker_stopping_ || !in_flight_.empty(); });
            continue;
        }
        settled_ = false;
        // The batches out, oldest first. They stay where they are while the relay thread
        // appends; only this thread removes them.
        std::vector<InFlight*> out;
        out.reserve(in_flight_.size());
        for (InFlight& f : in_flight_) out.push_back(&f);
        lock.unlock();
        auto outcome = out.front()->publication->outcome();
        // The head, and the batches after it already confirmed good, are marked in one store
        // call: still a prefix of the batches sent, in one commit instead of one per batch, so
        // marking keeps up however many batches are confirmed while a mark is under way.
        std::size_t batches = 0;
        std::vector<StoredEvent> joined;
        std::span<const StoredEvent> events;
        bool failed = false;
        if (outcome && *outcome) {
            batches = 1;
            while (batches < out.size()) {
                auto next = out[batches]->publication->outcome();
                if (!next || !*next) break;
                ++batches;
            }
            events = out.front()->events;
            if (batches > 1) {
                // Moved out: after the mark the batches are gone either way (marked, or dropped
                // and fetched again).
                for (std::size_t i = 0; i < batches; ++i) {
                    std::move(out[i]->events.begin(), out[i]->events.end(),
                              std::back_inserter(joined));
                }
                events = joined;
            }
            const auto started = std::chrono::steady_clock::now();
            auto marked = store_.mark_published(events);
            mark_seconds_.observe(seconds_since(started));
            // Published but not marked: the events go out again later; consumers skip them.
            failed = !marked;
        } else if (outcome) {
            failed = true;
        }
        lock.lock();
        if (!outcome) {
            if (marker_stopping_ && std::chrono::steady_clock::now() >= marker_deadline_) {
                failed = true;  // not confirmed in time: stays unmarked for the next relay
            } else {
                auto until = std::chrono::steady_clock::now() + options_.idle_poll;
                if (marker_stopping_) until = std::min(until, marker_deadline_);
                // Once stopping, only an outcome or the deadline ends the wait (no spinning).
                const bool was_stopping = marker_stopping_;
                cv_.wait_until(lock, until, [this, was_stopping] {
                    return settled_ || (marker_stopping_ && !was_stopping);
                });
                continue;
            }
        }
        if (failed) {
            // Batches sent after it are not marked either: marking them would leave the failed
            // batch behind a marked one, and on SQLite (a published watermark) skip it for good.
            // Dropping a publication detaches its callback; its messages may still land, before
            // the copies sent after the next fetch (the bus keeps the order batches were sent in).
            if (!marker_stopping_) errors_.inc();
            broken_ = true;
            std::deque<InFlight> dropped;
            dropped.swap(in_flight_);
            in_flight_gauge_.set(0);
            lock.unlock();
            dropped.clear();
            cv_.notify_all();
            lock.lock();
            continue;
        }
        published_.inc(events.size());
        published_seq_.store(events.back().seq);
        position_gauge_.set(static_cast<double>(events.back().seq));
        for (const StoredEvent& e : events) marked_.push_back(e.seq);
        std::vector<InFlight> done;
        for (std::size_t i = 0; i < batches; ++i) {
            done.push_back(std::move(in_flight_.front()));
            in_flight_.pop_front();
        }
        in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
        cv_.notify_all();  // room for the relay thread
        // Destroyed unlocked, as the dropped ones above: a bus may call `settled` (on_settled,
        // which takes mu_) while holding a lock of the publication's that its destructor takes
        // too, and its outcome may be known before that call is over (Kafka: the last delivery
        // report). Destroying it under mu_ deadlocked the marker and the producer's poller.
        lock.unlock();
        done.clear();
        joined.clear();
        lock.lock();
    }
}

void Relay::restart_after_failure() {
    // Everything not marked is fetched (and sent) again, from the first unmarked event on.
    broken_ = false;
    marked_.clear();
    sent_.clear();
    unsent_.clear();
}

Relay::Step Relay::run_once() {
    {
        std::lock_guard lock(mu_);
        if (broken_) {
            restart_after_failure();
            return Step::Failed;
        }
        if (in_flight_.size() >= options_.max_in_flight) return Step::Full;
        // Marked before this fetch begins: the fetch cannot return them.
        for (std::int64_t seq : marked_) sent_.erase(seq);
        marked_.clear();
    }
    if (unsent_.empty()) {
        // The events out are still pending in the store: the fetch leaves them out (a store that
        // can, in its query: they are not read again). One fetch takes up to max_in_flight
        // batches, so the relay asks the store once per that many batches, not once per batch.
        const std::size_t limit = options_.batch_size * options_.max_in_flight;
        std::vector<std::int64_t> out(sent_.begin(), sent_.end());
        std::sort(out.begin(), out.end());
        const auto started = std::chrono::steady_clock::now();
        // In the form the bus sends (Kafka: the stored envelope, not decoded only to be encoded
        // again).
        auto fetched = store_.fetch_pending_except(limit, out, bus_.event_form());
        fetch_seconds_.observe(seconds_since(started));
        if (!fetched) {
            errors_.inc();  // what is out stays out and is marked meanwhile
            return Step::Failed;
        }
        // A fetch short of the limit took everything committed before it; a commit after it has
        // woken the relay (woken_ was cleared before the fetch), so no round is needed to look
        // again. An event committed out of seq order (PostgreSQL) is simply in a later fetch;
        // the next fetch comes only once these are sent, so a stream's later version, which
        // commits after its earlier one, never goes out before it.
        fetched_all_ = fetched->size() < limit;
        for (StoredEvent& e : *fetched) {
            if (!sent_.contains(e.seq)) unsent_.push_back(std::move(e));
        }
    }
    if (unsent_.empty()) return Step::Idle;  // all pending is out already: wait for more
    const std::size_t n = std::min(unsent_.size(), options_.batch_size);
    std::vector<StoredEvent> batch(
        std::make_move_iterator(unsent_.begin()),
        std::make_move_iterator(unsent_.begin() + static_cast<std::ptrdiff_t>(n)));
    unsent_.erase(unsent_.begin(), unsent_.begin() + static_cast<std::ptrdiff_t>(n));
    const bool more = !unsent_.empty() || !fetched_all_;

    observe_event_ages(event_age_, batch, [](const StoredEvent& e) -> const std::string& {
        return e.event.occurred_at;
    });
    const auto started = std::chrono::steady_clock::now();
    auto publication = bus_.publish_async(batch, [this] { on_settled(); });
    send_seconds_.observe(seconds_since(started));
    for (const StoredEvent& e : batch) sent_.insert(e.seq);
    {
        std::unique_lock lock(mu_);
        if (broken_) {
            // An earlier batch failed meanwhile: this one is sent again after the next fetch.
            restart_after_failure();
            lock.unlock();
            publication.reset();
            return Step::Failed;
        }
        in_flight_.push_back(InFlight{std::move(batch), std::move(publication)});
        in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
    }
    cv_.notify_all();  // the marker
    return more ? Step::More : Step::Idle;
}

void Relay::loop() {
    name_this_thread("relay");
    auto backoff = std::chrono::milliseconds(10);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (paused_ > 0) {
            cv_.wait(lock, [this] { return stopping_ || paused_ == 0; });
            continue;
        }
        in_round_ = true;
        woken_ = false;
        const auto round_started = std::chrono::steady_clock::now();
        lock.unlock();
        const Step step = run_once();
        lock.lock();
        in_round_ = false;
        idle_cv_.notify_all();
        if (step == Step::Failed) {
            cv_.wait_for(lock, backoff, [this] { return stopping_; });
            backoff = std::min(backoff * 2, options_.max_backoff);
            continue;
        }
        backoff = std::chrono::milliseconds(10);
        if (step == Step::More) continue;
        if (step == Step::Full) {
            cv_.wait_for(lock, options_.idle_poll, [this] {
                return stopping_ || broken_ || in_flight_.size() < options_.max_in_flight;
            });
            continue;
        }
        cv_.wait_for(lock, options_.idle_poll,
                     [this] { return stopping_ || woken_ || broken_ || paused_ > 0; });
        // Rounds start at most once per linger: a commit that finds the relay idle is relayed at
        // once (a fixed pause after every round delayed it by up to the whole linger), while a
        // steady stream of commits is still taken in rounds at least `linger` apart.
        cv_.wait_until(lock, round_started + options_.linger,
                       [this] { return stopping_ || broken_ || paused_ > 0; });
    }
}

}  // namespace ordinal
