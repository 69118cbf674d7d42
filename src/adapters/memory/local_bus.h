#pragma once
#include <memory>

#include "ports/bus.h"

namespace ordinal {

// The in-process bus: publish() hands the batch straight to the subscribed consumer and returns
// only after it was applied, so "accepted by the bus" means "projected". Nothing is held in
// memory: after a crash the relay republishes from the outbox and the projector skips what it has.
// Relay and projector must therefore run in the same process.
std::unique_ptr<Bus> make_local_bus();

}  // namespace ordinal
