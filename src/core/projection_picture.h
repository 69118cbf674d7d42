#pragma once
// The projection per bus partition as the whole deployment sees it, from the stores alone: the
// read store's positions, and what each process wrote in its heartbeat (a projector: each
// partition it holds, with the bus's end and how long the position has not moved; a relay: the
// outbox partitions it publishes). Any process can draw it, so the one behind the load balancer
// answers for the deployment. Pure: the composition root reads the stores and the heartbeats.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ports/deployment_picture.h"
#include "ports/read_store.h"

namespace ordinal {

// The projector's side: turns the position and end it reads at every heartbeat into progress.
// Not thread-safe: the heartbeat's thread owns it.
class ProgressTracker {
  public:
    struct Reading {
        std::string partition;
        std::int64_t position = 0;
        std::optional<std::int64_t> end;
    };
    // The partitions held now: one not in `held` is forgotten, so a partition taken again later
    // starts afresh rather than as waiting since it was given away.
    std::vector<PartitionProgress> observe(const std::vector<Reading>& held,
                                           std::chrono::steady_clock::time_point now);

  private:
    struct Seen {
        std::int64_t position = 0;
        std::chrono::steady_clock::time_point moved, settled;
    };
    std::map<std::string, Seen> seen_;
};

// A registered process as the picture needs it.
struct ReportedProcess {
    std::string id;
    std::int64_t age_ms = 0;                      // since its last heartbeat
    std::vector<PartitionProgress> progress;      // a projector: each partition it holds
    std::vector<std::int64_t> outbox_partitions;  // a relay: the outbox partitions it publishes
    std::vector<BusPosition> published_ends;      // a relay: each partition's end it saw written
    bool projector = false;                       // runs the projector role
};

struct PictureInput {
    std::vector<BusPosition> positions;  // the read store's
    std::vector<ReportedProcess> processes;
    // In-process bus: the outbox's last sequence is the end of its one partition, `local`.
    std::optional<std::int64_t> local_end;
    std::int64_t stale_after_ms = 5000;   // a process not heard from for longer is stale
    std::int64_t stall_after_ms = 30000;  // a live owner's position unmoved this long, behind
};

// Every partition with a position, held by a registered process or published to by one, in name
// order. Its end is the
// furthest any process reported (a projector's fetches, a relay's delivery reports: ends only
// grow), so it stays known while its projector is stopped. Its owner is
// the live process holding it (the most recently heard if several, during a rebalance), else the
// stale one heard from last. Stalled: its owner is stale; or its live owner's position has not
// moved for longer than stall_after_ms while behind; or nobody holds it while it is behind and no
// projector process is live (with one live, the group is handing the partition over).
std::vector<PartitionPicture> picture_partitions(const PictureInput& input);

// The messages waiting over every partition whose end is known (the sum of their `behind`): the
// projection lag the console's overview draws, on the in-process bus and on Kafka alike. None
// while no partition's end is known.
std::optional<std::int64_t> total_behind(const std::vector<PartitionPicture>& partitions);

// Outbox partitions 0..partitions-1 with the relay publishing each (the live one if several
// claim it during a hand-over); stalled when that relay is stale.
std::vector<OutboxPartitionPicture> picture_outbox_partitions(const PictureInput& input,
                                                              std::int64_t partitions);

}  // namespace ordinal
