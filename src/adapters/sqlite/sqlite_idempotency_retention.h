#pragma once
// Expires idempotency records older than the retention window on the embedded profile, as
// pg_idempotency_retention does on PostgreSQL: small batches (one DELETE of at most `batch_rows`
// through the created_ms index each), a short pause between them, a sweep every `interval`.
// One process owns an SQLite write store, so there is no leader to elect. Each batch runs as
// upkeep of the batching writer (its own savepoint in the writer's next transaction), so it
// never contends for the write lock with commands. Only the idempotency table is touched: the
// event log is kept (rebuilds replay it).
//
// A background thread; the destructor stops it (interrupting the pause between batches).
#include <chrono>
#include <cstdint>
#include <thread>

#include "ports/clock.h"
#include "ports/stop_signal.h"

namespace ordinal::sqlite {

class SqliteBatchingWriter;

struct RetentionOptions {
    std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
    std::chrono::milliseconds interval{std::chrono::seconds(60)};  // between sweeps
    std::int64_t batch_rows = 1000;                                // rows per DELETE
    std::chrono::milliseconds pause{20};                           // between batches
};

class IdempotencyRetention {
  public:
    // `writer` and `clock` (which dates the records, as it did when they were written) must
    // outlive this.
    IdempotencyRetention(SqliteBatchingWriter& writer, RetentionOptions options,
                         const Clock& clock);
    ~IdempotencyRetention();
    IdempotencyRetention(const IdempotencyRetention&) = delete;
    IdempotencyRetention& operator=(const IdempotencyRetention&) = delete;

  private:
    void loop();

    SqliteBatchingWriter& writer_;
    RetentionOptions options_;
    const Clock& clock_;
    StopSignal stop_;
    std::thread thread_;
};

}  // namespace ordinal::sqlite
