#pragma once
// Expires idempotency records older than the retention window, with the sweep of
// adapters/retention_sweeper.h (as sqlite_idempotency_retention on the embedded profile), from
// one process at a time: whoever holds the session-level advisory lock (kRetentionLockSpace, 0)
// on its own connection is the leader; the others try again each interval and take over when the
// leader's session ends. One short DELETE a batch, each its own transaction: no long lock on the
// table and no large WAL burst.
#include <cstdint>
#include <string>

#include "adapters/postgres/pg_connection.h"
#include "adapters/retention_sweeper.h"
#include "ports/clock.h"

namespace ordinal::pg {

inline constexpr std::int32_t kRetentionLockSpace = 0x6f726452;  // 'ordR'

using RetentionOptions = retention::RetentionOptions;

class IdempotencyRetention {
  public:
    // `clock` (must outlive this) dates the records, as it did when they were written.
    IdempotencyRetention(std::string conninfo, RetentionOptions options, const Clock& clock);

  private:
    bool lead();  // (re)connects and tries for the lock; true while this process leads
    std::optional<std::int64_t> delete_batch(std::int64_t cutoff, std::int64_t rows);

    const std::string conninfo_;
    // Only the sweeper's thread uses these.
    Connection conn_;
    bool leader_ = false;
    retention::RetentionSweeper sweeper_;  // last: its thread starts once the rest is built
};

}  // namespace ordinal::pg
