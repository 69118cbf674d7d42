#pragma once
// The read side's ordering rule, shared by every read store. Inside one read-store transaction
// each event is applied only if it is its stream's next version: versions already applied are
// skipped (a redelivery), and a version past the next one (a gap) rejects the whole batch.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "domain/events.h"
#include "ports/read_store.h"

namespace ordinal {

std::string describe_stream(const StreamKey& stream);  // "order/<id>", "product/<sku>"

// `applied_version` reads a stream's applied version from the transaction (called once per
// stream of the batch); `apply` writes one event's rows. Throws StoreFailure (Internal) on a gap
// or on an event whose type does not belong to its stream's type; the caller rolls back.
ProjectionResult sequence_events(std::span<const Event> events,
                                 const std::function<std::int64_t(const StreamKey&)>& applied_version,
                                 const std::function<void(const Event&)>& apply);

}  // namespace ordinal
