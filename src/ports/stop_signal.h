#pragma once
// What a background thread of an adapter waits on between its rounds: a pause that stop() cuts
// short. Adapters may not use core/ (periodic_task.h), so their threads share this instead.
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ordinal {

class StopSignal {
  public:
    // Waits `d`; false once stop() was called (at once, if it already was).
    bool wait(std::chrono::milliseconds d) {
        std::unique_lock lock(mu_);
        return !cv_.wait_for(lock, d, [this] { return stopping_; });
    }
    void stop() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;  // guarded by mu_
};

}  // namespace ordinal
