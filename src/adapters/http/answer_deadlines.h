#pragma once
// Answers given when a request's handler has not answered in time. A command waits on the write
// store, and a store that hangs (a host cut off: a call in flight waits out the client's
// tcp_user_timeout, 15 s, and a reconnect connect_timeout, 5 s, more) kept its client waiting
// 20 s and longer. Each command is given a deadline here; past it, the request is answered
// (503 unavailable + Retry-After: the outcome is unknown, and a retry with the same idempotency
// key settles it to one effect) and the store's late outcome finds the request answered (the
// handler's Respond is answered once). One thread for every deadline of the server.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "adapters/http/http_types.h"
#include "domain/thread_annotations.h"

namespace ordinal {

// A request's Respond, answered once by whichever comes first: its handler or its deadline. Held
// weakly by the deadline, so a request answered in time leaves nothing behind but the entry.
class AnswerSlot {
  public:
    explicit AnswerSlot(Respond respond) : respond_(std::move(respond)) {}
    void answer(HttpAnswer a) {
        Respond respond;
        {
            std::lock_guard lock(mu_);
            respond = std::move(respond_);
            respond_ = nullptr;
        }
        if (respond) respond(std::move(a));
    }

  private:
    std::mutex mu_;
    Respond respond_ GUARDED_BY(mu_);  // empty once answered
};

class AnswerDeadlines {
  public:
    AnswerDeadlines();
    ~AnswerDeadlines();  // drops the deadlines not yet due
    AnswerDeadlines(const AnswerDeadlines&) = delete;
    AnswerDeadlines& operator=(const AnswerDeadlines&) = delete;

    // Calls `expire` after `after` (up to 50 ms later), on the deadlines' thread (`expire` must be
    // cheap and must not call back into this object).
    void add(std::chrono::milliseconds after, std::function<void()> expire);

  private:
    void run();

    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ GUARDED_BY(mu_) = false;
    std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;  // mu_
    std::thread thread_;
};

}  // namespace ordinal
