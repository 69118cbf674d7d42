#pragma once
// Applying bus events to the read store's tables, inside a transaction the caller opened.
#include <span>

#include "adapters/sqlite/sqlite_connection.h"
#include "domain/events.h"
#include "ports/read_store.h"

namespace ordinal::sqlite {

// Applies `events` in order and upserts bus_positions[position.partition] = position.offset.
// A stream's applied version is its row's `version` (0 without a row, or for a product
// placeholder created by a stock change): an event at or below it is skipped (redelivery), the
// next one is applied, and one further ahead is a gap.
//
// Throws StoreFailure: Internal on a gap or an event that does not fit its stream (the caller
// must roll back: nothing of the batch may stay), or the SQLite failure.
ProjectionResult project_events(Connection& conn, std::span<const Event> events,
                                const BusPosition& position);

// The applied version of `stream` as stored (0 if none).
std::int64_t select_stream_version(Connection& conn, const StreamKey& stream);

}  // namespace ordinal::sqlite
