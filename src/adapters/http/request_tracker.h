#pragma once
// Counts what a stopping server must wait for: requests handed to the RequestHandler and not yet
// answered (their callbacks may arrive from store, gate or pool threads and must find the server
// alive), and open connections (for the connection limit). Thread-safe.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "domain/thread_annotations.h"

namespace ordinal {

class RequestTracker {
  public:
    // False once stop_and_wait() began: the caller must not start the request.
    bool try_begin_request() {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
        ++in_flight_;
        return true;
    }
    void end_request() {
        std::lock_guard lock(mu_);
        if (--in_flight_ == 0) idle_.notify_all();
    }
    void stop_and_wait() {
        std::unique_lock lock(mu_);
        stopping_ = true;
        idle_.wait(lock, [this] { return in_flight_ == 0; });
    }
    bool stopping() const {
        std::lock_guard lock(mu_);
        return stopping_;
    }

    std::atomic<std::size_t> connections{0};

  private:
    mutable std::mutex mu_;
    std::condition_variable idle_;
    std::size_t in_flight_ GUARDED_BY(mu_) = 0;
    bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace ordinal
