#include "adapters/sqlite/sqlite_idempotency_retention.h"

#include "adapters/sqlite/sqlite_batching_writer.h"

namespace ordinal::sqlite {
namespace {

retention::SweepSteps steps(SqliteBatchingWriter& writer) {
    retention::SweepSteps s;
    s.delete_batch = [&writer](std::int64_t cutoff,
                               std::int64_t rows) -> std::optional<std::int64_t> {
        std::int64_t deleted = 0;
        const auto done = writer.run_upkeep([&](Connection& conn) {
            deleted = conn.exec(
                "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "
                "WHERE created_ms < ? ORDER BY created_ms LIMIT ?)",
                cutoff, rows);
        });
        if (!done) return std::nullopt;  // the store is failing or stopping
        return deleted;
    };
    return s;
}

}  // namespace

IdempotencyRetention::IdempotencyRetention(SqliteBatchingWriter& writer, RetentionOptions options,
                                           const Clock& clock)
    : sweeper_(options, clock, steps(writer)) {}

}  // namespace ordinal::sqlite
