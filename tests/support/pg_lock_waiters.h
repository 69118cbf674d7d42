#pragma once
// Sessions waiting on a PostgreSQL lock, for tests that hold a row or a transaction open and must
// see another session wait behind it before they go on.
#include <chrono>
#include <cstdint>
#include <thread>

#include "adapters/postgres/pg_connection.h"

namespace ordinal::test_support {

// Sessions of `watcher`'s database waiting on a lock (a row, a transaction) now.
inline std::int64_t lock_waiters(pg::Connection& watcher) {
    return watcher
        .exec(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
            "wait_event_type = 'Lock'")
        .int64(0, 0);
}

// Whether at least `n` sessions wait on a lock within 10 s (bounded polling: 1,000 looks).
inline bool wait_for_lock_waiters(pg::Connection& watcher, std::int64_t n) {
    for (int i = 0; i < 1000; ++i) {
        if (lock_waiters(watcher) >= n) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

}  // namespace ordinal::test_support
