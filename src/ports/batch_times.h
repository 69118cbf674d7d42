#pragma once
// When the relay published and the projector applied each event, as the stores keep it: not a
// row per event (that would be a write per event on the hot path) but one row per relay batch in
// the write store (when it was marked published, and the outbox sequence numbers it covered) and
// one per projection batch in the read store (when it committed, and the version it left each
// stream it advanced at). The admin stream view maps an event to its batches
// (docs/console.md#publish-and-apply-times). Both kinds of row are pruned once they are older
// than kBatchTimesKeptMs, at most once every kBatchTimesPruneEveryMs, by the statement that
// records the next batch.
#include <cstdint>
#include <optional>
#include <span>

namespace ordinal {

inline constexpr std::int64_t kBatchTimesKeptMs = 60 * 60 * 1000;
inline constexpr std::int64_t kBatchTimesPruneEveryMs = 60 * 1000;
// ReadStore::stream_apply_times looks through at most this many projection batches from the time
// it is given, and lists at most kApplyBatchesListed of those that advanced the stream: a bound
// on an admin view's work, not a limit of what is kept.
inline constexpr std::int64_t kApplyBatchesLookedAt = 5000;
inline constexpr std::int64_t kApplyBatchesListed = 200;

// A projection batch that advanced one stream: the version it left the stream at, and when it
// committed (the clock of the process that applied it, Unix ms).
struct StreamApplyTime {
    std::int64_t version = 0;
    std::int64_t applied_ms = 0;
};

// When `version` was applied: by the first batch (in commit order) that left the stream at it or
// past it, since a stream's versions are applied in order. None when no batch kept says so.
inline std::optional<std::int64_t> applied_time_of(std::int64_t version,
                                                   std::span<const StreamApplyTime> batches) {
    for (const StreamApplyTime& b : batches) {
        if (b.version >= version) return b.applied_ms;
    }
    return std::nullopt;
}

}  // namespace ordinal
