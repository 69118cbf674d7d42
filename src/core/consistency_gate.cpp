#include "core/consistency_gate.h"

#include <vector>

namespace ordinal {

ConsistencyGate::ConsistencyGate(ReadStore& store, std::chrono::milliseconds poll_interval)
    : store_(store), poll_interval_(poll_interval), timer_([this] { timer_loop(); }) {}

ConsistencyGate::~ConsistencyGate() {
    std::vector<WaiterPtr> left;
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        for (auto& [_, w] : by_deadline_) left.push_back(w);
        by_deadline_.clear();
        by_stream_.clear();
    }
    cv_.notify_all();
    timer_.join();
    for (auto& w : left) finish(w, GateResult::TimedOut);
}

std::size_t ConsistencyGate::waiting() const {
    std::lock_guard lock(mu_);
    return by_deadline_.size();
}

void ConsistencyGate::finish(const WaiterPtr& w, GateResult r) {
    Done done;
    {
        std::lock_guard lock(mu_);
        if (w->finished) return;
        w->finished = true;
        done = std::move(w->done);
    }
    if (r == GateResult::Reached && waits_)
        waits_->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - w->started).count());
    done(r);
}

void ConsistencyGate::unregister(const WaiterPtr& w) {
    for (const auto& [key, _] : w->remaining) {
        auto it = by_stream_.find(key);
        if (it == by_stream_.end()) continue;
        it->second.remove(w);
        if (it->second.empty()) by_stream_.erase(it);
    }
    auto range = by_deadline_.equal_range(w->deadline);
    for (auto it = range.first; it != range.second; ++it) {
        if (it->second == w) {
            by_deadline_.erase(it);
            break;
        }
    }
}

void ConsistencyGate::wait(const VersionVector& wanted, std::chrono::milliseconds max_wait,
                           Done done) {
    if (wanted.empty()) return done(GateResult::Reached);
    const auto started = std::chrono::steady_clock::now();
    auto w = std::make_shared<Waiter>();
    w->remaining = wanted;
    w->started = started;
    w->done = std::move(done);

    // Register for notifications first, then look once: progress committed before the look is
    // seen by it, progress after the registration reaches the waiter through notify(), so one
    // read of the store is enough (it was two: a look, then another after registering). The
    // deadline is set only after the look, so a short wait on versions already projected is
    // answered Reached, never expired by the timer thread before it was looked at.
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            w->finished = true;
            auto d = std::move(w->done);
            d(GateResult::TimedOut);
            return;
        }
        for (const auto& [key, _] : w->remaining) by_stream_[key].push_back(w);
    }
    std::vector<StreamKey> keys;
    keys.reserve(wanted.size());
    for (const auto& [key, _] : wanted) keys.push_back(key);
    // One read for all of the query's streams.
    auto have = store_.stream_versions(keys);
    if (!have || have->size() != keys.size()) {
        {
            std::lock_guard lock(mu_);
            unregister(w);
        }
        finish(w, GateResult::StoreFailed);
        return;
    }
    std::vector<std::pair<StreamKey, std::int64_t>> reached;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if ((*have)[i] >= wanted.at(keys[i])) reached.emplace_back(keys[i], (*have)[i]);
    }
    if (!reached.empty()) notify(reached);

    bool wake_timer = false;
    bool stopped = false;
    {
        std::lock_guard lock(mu_);
        // remaining empty: notify() reached it and is finishing it.
        if (!w->finished && !w->remaining.empty()) {
            if (stopping_) {
                unregister(w);  // the destructor completes only what has a deadline
                stopped = true;
            } else {
                w->deadline = started + max_wait;
                wake_timer = by_deadline_.empty() || w->deadline < by_deadline_.begin()->first;
                by_deadline_.emplace(w->deadline, w);
            }
        }
    }
    if (wake_timer) cv_.notify_all();
    if (stopped) finish(w, GateResult::TimedOut);
}

void ConsistencyGate::notify(std::span<const std::pair<StreamKey, std::int64_t>> advanced) {
    std::vector<WaiterPtr> done;
    {
        std::lock_guard lock(mu_);
        if (by_stream_.empty()) return;
        for (const auto& [key, version] : advanced) {
            auto s = by_stream_.find(key);
            if (s == by_stream_.end()) continue;
            for (auto it = s->second.begin(); it != s->second.end();) {
                const WaiterPtr& w = *it;
                auto need = w->remaining.find(key);
                if (need != w->remaining.end() && version >= need->second) {
                    w->remaining.erase(need);
                    if (w->remaining.empty()) done.push_back(w);
                    it = s->second.erase(it);
                } else {
                    ++it;
                }
            }
            if (s->second.empty()) by_stream_.erase(s);
        }
        for (const auto& w : done) unregister(w);
    }
    for (const auto& w : done) finish(w, GateResult::Reached);
}

void ConsistencyGate::poll_now() {
    {
        std::lock_guard lock(mu_);
        if (by_stream_.empty() || poll_requested_) return;
        poll_requested_ = true;
    }
    cv_.notify_all();
}

void ConsistencyGate::poll() {
    {
        std::lock_guard lock(mu_);
        if (by_stream_.empty()) return;
    }
    poll_once();
}

void ConsistencyGate::poll_once() {
    std::vector<StreamKey> keys;
    {
        std::lock_guard lock(mu_);
        for (const auto& [key, _] : by_stream_) keys.push_back(key);
    }
    // One read for every waited-on stream: with hundreds of readers waiting, a read each would
    // make every wake-up (one per projection commit) cost hundreds of round trips.
    auto versions = store_.stream_versions(keys);
    if (!versions || versions->size() != keys.size()) return;  // the next poll looks again
    std::vector<std::pair<StreamKey, std::int64_t>> seen;
    seen.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
        seen.emplace_back(std::move(keys[i]), (*versions)[i]);
    notify(seen);
}

void ConsistencyGate::timer_loop() {
    std::unique_lock lock(mu_);
    auto next_poll = std::chrono::steady_clock::now() + poll_interval_;
    while (!stopping_) {
        auto wake_at = by_deadline_.empty()
                           ? std::chrono::steady_clock::now() + std::chrono::seconds(1)
                           : by_deadline_.begin()->first;
        if (poll_interval_.count() > 0 && !by_stream_.empty() && next_poll < wake_at)
            wake_at = next_poll;
        if (!poll_requested_) cv_.wait_until(lock, wake_at);
        if (stopping_) break;
        const auto now = std::chrono::steady_clock::now();
        std::vector<WaiterPtr> expired;
        while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
            WaiterPtr w = by_deadline_.begin()->second;
            unregister(w);
            expired.push_back(std::move(w));
        }
        const bool poll = !by_stream_.empty() &&
                          (poll_requested_ || (poll_interval_.count() > 0 && now >= next_poll));
        poll_requested_ = false;  // this poll reads every stream after the request was made
        lock.unlock();
        for (const auto& w : expired) finish(w, GateResult::TimedOut);
        if (poll) {
            poll_once();
            next_poll = std::chrono::steady_clock::now() + poll_interval_;
        }
        lock.lock();
    }
}

}  // namespace ordinal
