#pragma once
// The deployment's picture as values: what a projector reports of each partition it holds, and
// each bus and outbox partition as GET /v1/admin/status shows it. Drawn by
// core/projection_picture.h; carried in ports/service_api.h's StatusReport and ProcessDetail.
#include <cstdint>
#include <optional>
#include <string>

namespace ordinal {

// What a projector reports in its heartbeat of one partition it holds.
struct PartitionProgress {
    std::string partition;            // as BusPosition::partition
    std::int64_t position = 0;        // as the read store holds it
    std::optional<std::int64_t> end;  // the bus's end of the partition (Kafka: high watermark)
    std::int64_t moved_ago_ms = 0;    // since the position last moved (or was first seen)
    // Since the partition was last caught up with its end or its position last moved, while it
    // is behind; 0 while it is not. A position that moves, however slowly, is not waiting.
    std::int64_t waiting_ms = 0;
};

// One bus partition of the projection, as GET /v1/admin/status shows it.
struct PartitionPicture {
    std::string partition;
    std::optional<std::string> owner;        // the projector process holding it
    std::optional<std::string> owner_state;  // "live" or "stale"
    std::int64_t position = 0;
    std::optional<std::int64_t> bus_end, behind, moved_ago_ms;
    bool stalled = false;
    std::optional<std::string> stalled_reason;
};

// One outbox partition and the relay publishing it.
struct OutboxPartitionPicture {
    std::int64_t partition = 0;
    std::optional<std::string> owner;
    std::optional<std::string> owner_state;  // "live" or "stale"
    bool stalled = false;                    // its owner stopped heartbeating
};

}  // namespace ordinal
