#pragma once
// Sends NOTIFY on a channel from a connection of its own, after the transactions it announces
// have committed, instead of inside them.
//
// Why: a transaction that notifies takes a database-wide lock at commit and holds it through its
// commit's WAL flush, so every notifying commit waits for the one before it; with a NOTIFY in
// every write batch and every projection batch the commits of the writers and the projector were
// serialised and could not share WAL flushes. Here the data transactions commit without it, and
// one thread notifies for all of them: signals that arrive while a NOTIFY is under way coalesce
// into the next one, and its commits are asynchronous (a lost notification only delays a waiter
// until its fallback poll; nothing depends on it for correctness). A listener still hears of a
// commit only after it is visible, since the signal is given once COMMIT returned.
//
// The payload is this process's notify origin: a listener in the same process skips what its
// own process sent (the process's relay and gate are told directly; pg_notify_listener.cpp).
// Thread-safe; never throws from signal().
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "domain/thread_annotations.h"

namespace ordinal::pg {

// This process's tag on the notifications it sends: its pid and a random number, fixed for the
// process's life (a pid alone may repeat on another host).
const std::string& notify_origin();

class Notifier {
  public:
    Notifier(std::string conninfo, std::string channel);
    ~Notifier();  // sends nothing more; joins
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void signal();  // something committed: NOTIFY soon

  private:
    void loop();

    const std::string conninfo_;
    const std::string channel_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool pending_ GUARDED_BY(mu_) = false;
    bool stopping_ GUARDED_BY(mu_) = false;
    std::thread thread_;
};

}  // namespace ordinal::pg
