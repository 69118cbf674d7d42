#pragma once
// When a store's next relay or projection batch-time row also prunes the old ones
// (ports/batch_times.h): at most once every kBatchTimesPruneEveryMs per store. Header-only and
// library-free, shared by the SQLite and PostgreSQL stores.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "ports/batch_times.h"

namespace ordinal {

class BatchTimesPruning {
  public:
    // The cutoff (Unix ms) below which rows go, when a prune is due now; one caller gets it. A
    // prune whose transaction rolls back waits for the next turn: the rows only wait longer.
    std::optional<std::int64_t> due(std::int64_t now_ms) {
        std::int64_t last = last_ms_.load();
        if (now_ms - last < kBatchTimesPruneEveryMs) return std::nullopt;
        if (!last_ms_.compare_exchange_strong(last, now_ms)) return std::nullopt;
        return now_ms - kBatchTimesKeptMs;
    }
    std::optional<std::int64_t> due_now() {
        using namespace std::chrono;
        return due(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
    }

  private:
    std::atomic<std::int64_t> last_ms_{0};
};

}  // namespace ordinal
