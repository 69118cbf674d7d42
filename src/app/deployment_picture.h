#pragma once
// The deployment's picture (core/projection_picture.h) from what the read store holds: the
// positions, and every registered process's heartbeat detail read back.
#include <cstdint>
#include <optional>
#include <vector>

#include "core/projection_picture.h"
#include "ports/read_store.h"

namespace ordinal {

struct PictureSettings {
    bool kafka = false;  // the bus: Kafka's partitions, or the in-process bus's one, `local`
    std::int64_t stale_after_ms = 5000;
    std::int64_t stall_after_ms = 30000;
};

// `local_end`: the outbox's last sequence, the in-process bus's end. On Kafka a `local` position
// (a rebuild replays the log as the in-process bus delivers it) is no partition and is left out.
PictureInput picture_input(std::vector<BusPosition> positions,
                           const std::vector<ProcessRecord>& processes,
                           std::optional<std::int64_t> local_end, const PictureSettings& settings);

}  // namespace ordinal
