#pragma once
// When a store's next relay or projection batch-time row also prunes the old ones
// (ports/batch_times.h): at most once every kBatchTimesPruneEveryMs per store. Header-only and
// library-free, shared by the SQLite and PostgreSQL stores.
#include <atomic>
#include <cstdint>
#include <optional>

#include "ports/batch_times.h"
#include "ports/clock.h"

namespace ordinal {

// A batch-time row's time, and the cutoff (Unix ms) below which rows go with it when a prune is
// due.
struct BatchTime {
    std::int64_t at_ms = 0;
    std::optional<std::int64_t> prune_before;
};

class BatchTimesPruning {
  public:
    // The rows' times and the cutoff come from the same injected clock (the store's), so a test
    // that moves it decides what is old.
    explicit BatchTimesPruning(const Clock& clock) : clock_(clock) {}

    // The cutoff below which rows go, when a prune is due at `now_ms`; one caller gets it. A
    // prune whose transaction rolls back waits for the next turn: the rows only wait longer.
    std::optional<std::int64_t> due(std::int64_t now_ms) {
        std::int64_t last = last_ms_.load();
        if (now_ms - last < kBatchTimesPruneEveryMs) return std::nullopt;
        if (!last_ms_.compare_exchange_strong(last, now_ms)) return std::nullopt;
        return now_ms - kBatchTimesKeptMs;
    }
    // The time of a row recorded now, with the prune due now if any.
    BatchTime next() {
        const std::int64_t now = clock_.unix_ms();
        return BatchTime{now, due(now)};
    }

  private:
    const Clock& clock_;
    std::atomic<std::int64_t> last_ms_{0};
};

}  // namespace ordinal
