#include "core/periodic_task.h"

#include "ports/thread_name.h"

namespace ordinal {

PeriodicTask::PeriodicTask(std::string thread_name, std::chrono::milliseconds interval,
                           std::function<void()> body)
    : thread_name_(std::move(thread_name)),
      interval_(interval),
      body_(std::move(body)),
      thread_([this] { run(); }) {}

PeriodicTask::~PeriodicTask() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void PeriodicTask::wake() {
    {
        std::lock_guard lock(mu_);
        woken_ = true;
    }
    cv_.notify_all();
}

void PeriodicTask::run() {
    name_this_thread(thread_name_);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        woken_ = false;
        lock.unlock();
        body_();
        lock.lock();
        cv_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    }
}

}  // namespace ordinal
