#pragma once
// Applying bus events to the read store's tables, and its dead letters, inside a transaction the
// caller opened, by the ordering rule the store was given (ports/projection_rules.h).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "adapters/batch_times_pruning.h"
#include "adapters/sqlite/sqlite_connection.h"
#include "domain/events.h"
#include "ports/projection_rules.h"
#include "ports/read_store.h"

namespace ordinal::sqlite {

// Applies `events` in order and upserts bus_positions[position.partition] = position.offset
// (never lowering it). A stream's applied version is its row's `version` (0 without a row, or
// for a product placeholder created by a stock change).
//
// Throws StoreFailure: Internal on a gap or an event that does not fit its stream (the caller
// must roll back: nothing of the batch may stay), or the SQLite failure.
ProjectionResult project_events(Connection& conn, const ProjectionRules& rules,
                                std::span<const Event> events, const BusPosition& position);

// ReadStore::claim_partition inside the caller's (write) transaction: the new owner epoch.
std::int64_t claim_partition(Connection& conn, const std::string& partition);

// ReadStore::apply_delivery inside the caller's transaction; throws StoreFailure (Fenced when the
// delivery's owner epoch is not the partition's).
ProjectionResult project_delivery(Connection& conn, const ProjectionRules& rules,
                                  const Delivery& delivery, std::span<const std::int64_t> offsets);

// ReadStore::retry_dead_letters inside the caller's transaction; throws StoreFailure.
DeadLetterRetry retry_dead_letters(Connection& conn, const ProjectionRules& rules,
                                   std::optional<std::int64_t> id);

// Records a projection batch that advanced the streams `advanced` (ports/batch_times.h) at
// `time.at_ms` in the caller's transaction, with the rows older than `time.prune_before` deleted
// when it is given; nothing when it advanced none.
void record_projection_batch(Connection& conn,
                             std::span<const std::pair<StreamKey, std::int64_t>> advanced,
                             const BatchTime& time);

// ReadStore::stream_apply_times.
std::vector<StreamApplyTime> select_stream_apply_times(Connection& conn, const StreamKey& stream,
                                                       std::int64_t since_ms);

// The applied version of `stream` as stored (0 if none).
std::int64_t select_stream_version(Connection& conn, const StreamKey& stream);

// Dead letters not discarded: listed by `query`, counted; discard: ReadStore's, in the caller's
// transaction.
std::vector<DeadLetter> select_dead_letters(Connection& conn, const DeadLetterQuery& query);
std::int64_t count_dead_letters(Connection& conn);
bool discard_dead_letter(Connection& conn, std::int64_t id, const std::string& reason);

}  // namespace ordinal::sqlite
