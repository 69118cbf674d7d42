#include "core/consistency_gate.h"

#include <vector>

#include "ports/thread_name.h"

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
        unlooked_.clear();
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
    w->deadline = started + max_wait;
    w->done = std::move(done);

    // Registered before any poll reads the store: progress committed before that read is seen
    // by it, progress after reaches the waiter through notify() or a later poll.
    bool stopped = false;
    bool wake_timer = false;
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            stopped = true;
        } else {
            for (const auto& [key, _] : w->remaining) by_stream_[key].push_back(w);
            by_deadline_.emplace(w->deadline, w);
            wake_timer = unlooked_.empty();  // else the timer has been woken for an earlier one
            unlooked_.push_back(w);
        }
    }
    if (stopped) return finish(w, GateResult::TimedOut);
    if (wake_timer) cv_.notify_all();
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
    std::vector<WaiterPtr> first_looks;
    {
        std::lock_guard lock(mu_);
        for (const auto& [key, _] : by_stream_) keys.push_back(key);
        first_looks.swap(unlooked_);
    }
    if (keys.empty()) return;
    // One read for every waited-on stream: with hundreds of readers waiting, a read each would
    // make every wake-up (one per projection commit, one per batch of new waiters) cost hundreds
    // of round trips.
    auto versions = store_.stream_versions(keys);
    if (!versions || versions->size() != keys.size()) {
        // The waiters this was the first look for fail as a look of their own would have; the
        // others wait for the next poll.
        {
            std::lock_guard lock(mu_);
            for (const auto& w : first_looks) unregister(w);
        }
        for (const auto& w : first_looks) finish(w, GateResult::StoreFailed);
        return;
    }
    std::vector<std::pair<StreamKey, std::int64_t>> seen;
    seen.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
        seen.emplace_back(std::move(keys[i]), (*versions)[i]);
    notify(seen);
    if (first_looks.empty()) return;
    bool overdue = false;
    {
        std::lock_guard lock(mu_);
        const auto now = std::chrono::steady_clock::now();
        for (const auto& w : first_looks) {
            w->looked = true;
            overdue = overdue || (!w->finished && w->deadline <= now);
        }
    }
    if (overdue) cv_.notify_all();  // the timer skipped them while they were unread
}

std::chrono::steady_clock::time_point ConsistencyGate::next_deadline() const {
    for (const auto& [deadline, w] : by_deadline_)
        if (w->looked) return deadline;
    return std::chrono::steady_clock::now() + std::chrono::seconds(1);
}

void ConsistencyGate::timer_loop() {
    name_this_thread("gate");
    std::unique_lock lock(mu_);
    auto next_poll = std::chrono::steady_clock::now() + poll_interval_;
    while (!stopping_) {
        auto wake_at = next_deadline();
        if (poll_interval_.count() > 0 && !by_stream_.empty() && next_poll < wake_at)
            wake_at = next_poll;
        if (!poll_requested_ && unlooked_.empty()) cv_.wait_until(lock, wake_at);
        if (stopping_) break;
        bool poll = poll_requested_ || !unlooked_.empty() ||
                    (poll_interval_.count() > 0 && std::chrono::steady_clock::now() >= next_poll);
        poll_requested_ = false;  // this poll reads every stream after the request was made
        if (by_stream_.empty()) {
            unlooked_.clear();  // all of them reached by notify() meanwhile
            poll = false;
        }
        if (poll) {
            lock.unlock();
            poll_once();
            next_poll = std::chrono::steady_clock::now() + poll_interval_;
            lock.lock();
        }
        // Only waiters a poll has looked at expire; one not yet read is read first.
        const auto now = std::chrono::steady_clock::now();
        std::vector<WaiterPtr> expired;
        for (auto it = by_deadline_.begin(); it != by_deadline_.end() && it->first <= now; ++it)
            if (it->second->looked) expired.push_back(it->second);
        for (const auto& w : expired) unregister(w);
        if (expired.empty()) continue;
        lock.unlock();
        for (const auto& w : expired) finish(w, GateResult::TimedOut);
        lock.lock();
    }
}

}  // namespace ordinal
