#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ports/bus.h"

namespace ordinal {

// The in-process bus: publish() hands the batch straight to the subscribed consumer and returns
// only after it was applied, so "accepted by the bus" means "projected". Nothing is held in
// memory: after a crash the relay republishes from the outbox and the projector skips what it has.
// Relay and projector must therefore run in the same process.
std::unique_ptr<Bus> make_local_bus();

// The outbox events as one in-order delivery of partition "local" (also what a rebuild replays).
// An event's offset is its outbox sequence minus one, so the stored position (the next offset)
// is the last sequence applied, as the in-process bus has always recorded it. Rows this build
// cannot decode become dead letters, which park their streams. `offsets` receives the offset of
// each decoded event.
Delivery local_delivery(std::span<const StoredEvent> events, std::vector<std::int64_t>& offsets);

}  // namespace ordinal
