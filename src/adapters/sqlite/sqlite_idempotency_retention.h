#pragma once
// Expires idempotency records older than the retention window on the embedded profile, with the
// sweep of adapters/retention_sweeper.h (as pg_idempotency_retention on PostgreSQL): one DELETE
// of at most `batch_rows` through the created_ms index a batch. One process owns an SQLite write
// store, so there is no leader to elect. Each batch runs as upkeep of the batching writer (its
// own savepoint in the writer's next transaction), so it never contends for the write lock with
// commands.
#include "adapters/retention_sweeper.h"
#include "ports/clock.h"

namespace ordinal::sqlite {

class SqliteBatchingWriter;

using RetentionOptions = retention::RetentionOptions;

class IdempotencyRetention {
  public:
    // `writer` and `clock` (which dates the records, as it did when they were written) must
    // outlive this.
    IdempotencyRetention(SqliteBatchingWriter& writer, RetentionOptions options,
                         const Clock& clock);

  private:
    retention::RetentionSweeper sweeper_;
};

}  // namespace ordinal::sqlite
