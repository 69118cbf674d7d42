#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "domain/thread_annotations.h"

namespace ordinal {

// Runs `body` on a thread of its own: at once, then every `interval`, or sooner when woken.
// The destructor stops it, waiting for a running `body` to return.
class PeriodicTask {
  public:
    // `thread_name`: what ps -L and top -H show for its thread (ports/thread_name.h).
    PeriodicTask(std::string thread_name, std::chrono::milliseconds interval,
                 std::function<void()> body);
    ~PeriodicTask();
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    void wake();

  private:
    void run();

    std::string thread_name_;
    std::chrono::milliseconds interval_;
    std::function<void()> body_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ GUARDED_BY(mu_) = false;
    bool woken_ GUARDED_BY(mu_) = false;
    std::thread thread_;
};

}  // namespace ordinal
