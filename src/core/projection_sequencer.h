#pragma once
// The read side's ordering rule, shared by every read store. Inside one read-store transaction
// each event is applied only if it is its stream's next version; versions already applied are
// skipped (a redelivery). A version past the next one (a gap) is treated by where it comes from:
//
//   - apply() (in-process bus): the relay publishes each stream in order, so a gap is a bug and
//     rejects the whole batch;
//   - apply_delivery() (a bus that may lose and re-send a publish, Kafka): a gap is skipped, as
//     a complete later copy follows; unless the stream is blocked by a dead letter above its
//     applied version, since no copy of that version will come: then the event is dead-lettered
//     too, so that a retry can apply the stream in order;
//     A delivery from a bus that keeps every stream in order (Delivery::in_order, the
//     in-process bus) dead-letters the same way, but rejects a gap no dead letter explains;
//   - a retry of dead letters: as for a delivery, but the retried event is the only copy left
//     (and blocks its own stream), so a gap is always kept; an event that fails to apply is
//     rolled back to a savepoint and kept, and the rest goes on.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "ports/projection_rules.h"
#include "ports/read_store.h"

namespace ordinal {

// A dead letter of `event`, with `payload` its encoded envelope.
DeadLetter dead_letter_of(const Event& event, BusPosition position, std::string payload,
                          std::string reason);

// apply(): throws StoreFailure (Internal) on a gap or on an event whose type does not belong to
// its stream's type.
ProjectionResult sequence_events(std::span<const Event> events, ProjectionTransaction& tx);

// apply_delivery(): stores `delivery.dead`, then sequences the events; a dead-lettered event is
// stored with its offset and `encode`d. Throws StoreFailure (Internal) if `offsets` does not
// match the events, or on an event that does not fit its stream.
ProjectionResult sequence_delivery(const Delivery& delivery, std::span<const std::int64_t> offsets,
                                   ProjectionTransaction& tx, const EventEncoder& encode);

// retry_dead_letters(): sequences the rows each stream in version order (equal versions by id),
// deletes the applied and already applied ones, and gives the rest a new reason.
DeadLetterRetry sequence_retry(std::vector<RetryRow> rows, ProjectionTransaction& tx);

// The rule as the read stores take it (ports/projection_rules.h): the functions above. Stateless;
// lives as long as the program.
const ProjectionRules& projection_rules();

}  // namespace ordinal
