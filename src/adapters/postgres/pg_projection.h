#pragma once
// Applying bus events to the PostgreSQL read store's tables, and its dead letters, on the
// projector's writer connection (PgReadStore), by the ordering rule the store was given
// (ports/projection_rules.h); these are the statements it drives, batched per delivery
// (PgProjectionTransaction) and behind the product row locks (pg_product_row_locks.h). All throw
// PgFailure or StoreFailure; the caller rolls back.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/batch_times_pruning.h"
#include "adapters/postgres/pg_connection.h"
#include "domain/events.h"
#include "ports/projection_rules.h"
#include "ports/read_store.h"

namespace ordinal::pg {

// ReadStore::apply: one transaction, which this opens (BEGIN in the pipeline of its first
// statements) and commits (COMMIT in that of its last ones): the events in order, then the
// partition's position moved forward (never back). Throws StoreFailure (Internal) on a gap or an
// event that does not fit its stream. Each of these three records the batch's time row
// (ports/batch_times.h) when it advanced a stream, in the pipeline of its last statements;
// `pruning` gives the row's time (its clock) and says when that statement also deletes the old
// rows.
ProjectionResult project_events(Connection& conn, const ProjectionRules& rules,
                                std::span<const Event> events, const BusPosition& position,
                                BatchTimesPruning& pruning);

// ReadStore::apply_deliveries: one transaction over the deliveries of a poll, which this opens
// (BEGIN in the pipeline of its first statements) and commits (COMMIT in that of its last ones).
std::vector<ProjectionResult> project_deliveries(Connection& conn, const ProjectionRules& rules,
                                                 std::span<const DeliveryPart> parts,
                                                 BatchTimesPruning& pruning);

// ReadStore::claim_partition, in a transaction of its own (autocommit): the statement waits for
// a projection transaction of the partition that is under way (it holds the row shared), and
// holds no other lock meanwhile.
std::int64_t claim_partition(Connection& conn, const std::string& partition);

// ReadStore::retry_dead_letters in the caller's transaction.
DeadLetterRetry retry_dead_letters(Connection& conn, const ProjectionRules& rules,
                                   std::optional<std::int64_t> id, BatchTimesPruning& pruning);

// ReadStore::stream_apply_times.
std::vector<StreamApplyTime> select_stream_apply_times(Connection& conn, const StreamKey& stream,
                                                       std::int64_t since_ms);

// The applied version of `stream` as stored (0 if none).
std::int64_t select_stream_version(Connection& conn, const StreamKey& stream);

// A dead letter's payload as stored (bytea, read as hex by encode(payload, 'hex')).
std::string from_hex(std::string_view hex);

}  // namespace ordinal::pg
