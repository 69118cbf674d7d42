#pragma once
// The read side's ordering rule as a read store runs it, inside the one transaction the store
// opened; the rule itself is core/projection_sequencer.h, which says what it does with a
// redelivery, a gap and a dead letter. The composition root hands the core's (projection_rules())
// to every read store, so the rule lives in one place and no adapter includes core/.
// ProjectionTransaction is what the rule needs of the store: the read side's twin of
// WriteTransaction.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "ports/read_store.h"

namespace ordinal {

// What the rule needs of a read store, inside the one transaction the store opened. Every
// method throws StoreFailure on failure; the store rolls the transaction back.
class ProjectionTransaction {
  public:
    virtual ~ProjectionTransaction() = default;

    // The stream's applied version (0 if none).
    virtual std::int64_t applied_version(const StreamKey& stream) = 0;
    // Writes the rows of one event, which is its stream's next version.
    virtual void apply(const Event& event) = 0;

    // The lowest version above `applied` among the stream's dead letters (0 for one whose
    // version is unknown), or nullopt if there is none.
    virtual std::optional<std::int64_t> lowest_dead_letter(const StreamKey& stream,
                                                           std::int64_t applied) = 0;
    virtual void insert_dead_letter(const DeadLetter& letter) = 0;
    virtual void update_dead_letter_reason(std::int64_t id, const std::string& reason) = 0;
    virtual void delete_dead_letter(std::int64_t id) = 0;

    // Around one retried event: a savepoint, then released or rolled back to (and released).
    virtual void savepoint() = 0;
    virtual void release_savepoint() = 0;
    virtual void rollback_to_savepoint() = 0;
};

using EventEncoder = std::function<std::string(const Event&)>;

// One dead letter to retry: its payload decoded, or why it could not be.
struct RetryRow {
    std::int64_t id;
    Expected<Event, std::string> event;
};

class ProjectionRules {
  public:
    virtual ~ProjectionRules() = default;

    // ReadStore::apply: throws StoreFailure (Internal) on a gap or on an event whose type does
    // not belong to its stream's type.
    virtual ProjectionResult sequence_events(std::span<const Event> events,
                                             ProjectionTransaction& tx) const = 0;
    // ReadStore::apply_delivery: stores `delivery.dead`, then sequences the events; a
    // dead-lettered event is stored with its offset and `encode`d. Throws StoreFailure (Internal)
    // if `offsets` does not match the events, or on an event that does not fit its stream.
    virtual ProjectionResult sequence_delivery(const Delivery& delivery,
                                               std::span<const std::int64_t> offsets,
                                               ProjectionTransaction& tx,
                                               const EventEncoder& encode) const = 0;
    // ReadStore::retry_dead_letters: sequences the rows each stream in version order (equal
    // versions by id), deletes the applied and already applied ones, and gives the rest a new
    // reason.
    virtual DeadLetterRetry sequence_retry(std::vector<RetryRow> rows,
                                           ProjectionTransaction& tx) const = 0;
};

}  // namespace ordinal
