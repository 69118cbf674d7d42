#include "adapters/http/answer_deadlines.h"

#include <vector>

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
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (due_.empty()) {
            cv_.wait(lock);
            continue;
        }
        const auto next = due_.begin()->first;
        if (std::chrono::steady_clock::now() < next) {
            cv_.wait_until(lock, next);
            continue;
        }
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
