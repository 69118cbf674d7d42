#pragma once
// Expires idempotency records older than the retention window, in small batches, from one
// process at a time: whoever holds the session-level advisory lock (kRetentionLockSpace, 0) on
// its own connection is the leader; the others try again each interval and take over when the
// leader's session ends. Only the idempotency table is touched: the event log is kept forever
// (projection rebuilds replay it).
//
// A background thread; the destructor stops it (interrupting the pause between batches).
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "domain/thread_annotations.h"
#include "ports/clock.h"
#include "ports/stop_signal.h"

namespace ordinal::pg {

inline constexpr std::int32_t kRetentionLockSpace = 0x6f726452;  // 'ordR'

struct RetentionOptions {
    std::string conninfo;
    std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds interval{std::chrono::seconds(60)};  // between sweeps
    std::int64_t batch_rows = 1000;                                // rows per DELETE
    std::chrono::milliseconds pause{20};                           // between batches
};

class IdempotencyRetention {
  public:
    // `clock` (must outlive this) dates the records, as it did when they were written.
    IdempotencyRetention(RetentionOptions options, const Clock& clock);
    ~IdempotencyRetention();
    IdempotencyRetention(const IdempotencyRetention&) = delete;
    IdempotencyRetention& operator=(const IdempotencyRetention&) = delete;

  private:
    void loop();

    RetentionOptions options_;
    const Clock& clock_;
    StopSignal stop_;
    std::thread thread_;
};

}  // namespace ordinal::pg
