#include "adapters/http/answer_deadlines.h"

#include <algorithm>
#include <vector>

#include "ports/thread_name.h"

namespace ordinal {

AnswerDeadlines::AnswerDeadlines() : thread_([this] { run(); }) {}

AnswerDeadlines::~AnswerDeadlines() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void AnswerDeadlines::add(std::chrono::milliseconds after, std::function<void()> expire) {
    bool earliest = false;
    {
        std::lock_guard lock(mu_);
        const auto at = due_.emplace(std::chrono::steady_clock::now() + after, std::move(expire));
        earliest = at == due_.begin();
    }
    // Every command adds one: wake the thread only when it must wait less than it does now (with
    // one deadline for all commands, only when nothing was due), not once per command.
    if (earliest) cv_.notify_one();
}

void AnswerDeadlines::run() {
    name_this_thread("http-deadlines");
    constexpr auto kRound = std::chrono::milliseconds(50);
    auto last_round = std::chrono::steady_clock::time_point{};
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (due_.empty()) {
            cv_.wait(lock);
            continue;
        }
        // Deadlines are served in rounds at least kRound apart: every command adds one, and
        // waking for each as it falls due (most long answered) would cost the machine a thread
        // wake-up per command; a deadline of seconds can be late by kRound.
        const auto next = std::max(due_.begin()->first, last_round + kRound);
        if (std::chrono::steady_clock::now() < next) {
            cv_.wait_until(lock, next);
            continue;
        }
        last_round = std::chrono::steady_clock::now();
        std::vector<std::function<void()>> expired;
        const auto now = std::chrono::steady_clock::now();
        while (!due_.empty() && due_.begin()->first <= now) {
            expired.push_back(std::move(due_.begin()->second));
            due_.erase(due_.begin());
        }
        lock.unlock();
        for (auto& expire : expired) expire();
        lock.lock();
    }
}

}  // namespace ordinal
