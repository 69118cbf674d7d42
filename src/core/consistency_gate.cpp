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
    // Look first: a query whose versions are already projected is answered Reached whatever its
    // wait, before any deadline exists that the timer thread could expire.
    VersionVector remaining;
    for (const auto& [key, version] : wanted) {
        auto have = store_.stream_version(key);
        if (!have) return done(GateResult::StoreFailed);
        if (*have < version) remaining.emplace(key, version);
    }
    if (remaining.empty()) return done(GateResult::Reached);

    auto w = std::make_shared<Waiter>();
    w->remaining = std::move(remaining);
    w->deadline = std::chrono::steady_clock::now() + max_wait;
    w->done = std::move(done);

    // Register, then look again: progress made between the first look and the registration
    // reached no waiter, so it must be picked up here.
    bool wake_timer = false;
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            w->finished = true;
            auto d = std::move(w->done);
            d(GateResult::TimedOut);
            return;
        }
        for (const auto& [key, _] : w->remaining) by_stream_[key].push_back(w);
        wake_timer = by_deadline_.empty() || w->deadline < by_deadline_.begin()->first;
        by_deadline_.emplace(w->deadline, w);
    }
    if (wake_timer) cv_.notify_all();

    std::vector<std::pair<StreamKey, std::int64_t>> reached;
    VersionVector still;
    {
        std::lock_guard lock(mu_);
        still = w->remaining;
    }
    for (const auto& [key, version] : still) {
        auto have = store_.stream_version(key);
        if (!have) {
            {
                std::lock_guard lock(mu_);
                unregister(w);
            }
            finish(w, GateResult::StoreFailed);
            return;
        }
        if (*have >= version) reached.emplace_back(key, *have);
    }
    if (!reached.empty()) notify(reached);
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
