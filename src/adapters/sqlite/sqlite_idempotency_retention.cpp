#include "adapters/sqlite/sqlite_idempotency_retention.h"

#include "adapters/sqlite/sqlite_batching_writer.h"

namespace ordinal::sqlite {

IdempotencyRetention::IdempotencyRetention(SqliteBatchingWriter& writer, RetentionOptions options,
                                           const Clock& clock)
    : writer_(writer), options_(options), clock_(clock), thread_([this] { loop(); }) {}

IdempotencyRetention::~IdempotencyRetention() {
    stop_.stop();
    thread_.join();
}

void IdempotencyRetention::loop() {
    do {
        // The same cutoff for the whole sweep. A failed batch (the store is failing or stopping)
        // leaves nothing half-done and is tried again next sweep.
        const std::int64_t cutoff = clock_.unix_ms() - options_.retention.count();
        for (;;) {
            std::int64_t deleted = 0;
            const auto done = writer_.run_upkeep([&](Connection& conn) {
                deleted = conn.exec(
                    "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "
                    "WHERE created_ms < ? ORDER BY created_ms LIMIT ?)",
                    cutoff, options_.batch_rows);
            });
            if (!done || deleted < options_.batch_rows || !stop_.wait(options_.pause)) break;
        }
    } while (stop_.wait(options_.interval));
}

}  // namespace ordinal::sqlite
