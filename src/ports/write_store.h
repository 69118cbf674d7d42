#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "ports/command_types.h"
#include "ports/store_error.h"
#include "ports/trace_context.h"

namespace ordinal {

// An event as stored in the outbox, with its store-wide sequence number. Sequence numbers only
// order the outbox for the relay; streams are ordered by Event::version.
struct StoredEvent {
    std::int64_t seq = 0;
    Event event;
    // Set when this build cannot decode the row: an event type or schema version written by a
    // newer build during a rolling upgrade, or damaged data. `event` then holds only its id,
    // stream, version and times (its `data` means nothing). The relay still publishes it, so the
    // projector parks its stream in a dead letter instead of the relay stalling on it.
    struct Undecoded {
        std::string stream;    // "order/<id>" or "product/<sku>", as stored
        std::string type;      // as stored
        std::string envelope;  // the row as a bus envelope (codec/event_json.h), data as stored
        std::string reason;
    };
    std::optional<Undecoded> undecoded;
    // The command's trace context, carried to the bus (empty for events stored before there
    // was one).
    TraceContext trace{};
    // Set when fetched as EventForm::Envelope: the row as a bus envelope (codec/event_json.h),
    // its data as stored and not decoded, so `event` holds only its id, stream, version and
    // times (its `data` means nothing). The consumer decodes and checks it, as any message.
    struct AsStored {
        std::string stream_type;  // as stored
        std::string type;         // as stored
        std::string envelope;
    };
    std::optional<AsStored> as_stored{};
};

// What a relay needs of the events it fetches: decoded (a bus that hands `Event`s to the
// projector in process), or only each row's bus envelope (a bus that carries the envelope as
// bytes, Kafka), which spares decoding every row's JSON just to encode it again.
enum class EventForm { Decoded, Envelope };

// An outbox row as its columns hold it: what a store reads before decoding (codec/event_json.h,
// decode_outbox_row).
struct OutboxRow {
    std::int64_t seq = 0;
    std::string event_id;
    std::string stream_type;
    std::string stream_id;
    std::int64_t version = 0;
    std::string type;
    std::string occurred_at;
    std::string causation_id;
    std::int64_t schema_version = 0;
    std::string data;
    std::string traceparent{};  // empty: none (NULL in the store)
    std::string tracestate{};
};

// One event of a stream as the outbox holds it, for the operations console: its columns, not its
// decoded data, so a row this build cannot decode still shows.
struct StreamLogEntry {
    std::int64_t seq = 0;
    std::string event_id;
    std::int64_t version = 0;
    std::string type;
    std::string occurred_at;      // as the command recorded it (RFC 3339)
    std::int64_t created_ms = 0;  // the writer's wall clock at commit
    bool published = false;       // the relay has handed it to the bus
    // When the relay marked the batch that carried it published (the write store's clock, Unix
    // ms), from the store's relay batch times (one row per batch, kept kBatchTimesKeptMs): none
    // while unpublished, or once its batch's time is no longer kept.
    std::optional<std::int64_t> published_ms{};
    // When the projection batch that applied it committed (the read store's clock): filled by
    // the admin stream view from ReadStore::stream_apply_times, not by the write store.
    std::optional<std::int64_t> applied_ms{};
};

struct OutboxStats {
    std::int64_t pending = 0;
    std::int64_t oldest_pending_age_ms = 0;  // 0 when nothing is pending
    std::int64_t last_seq = 0;
    std::int64_t published_seq = 0;
};

// Which outbox partitions a store's fetch_pending() serves now, out of how many.
struct OutboxShare {
    std::int64_t partitions = 1;
    std::vector<std::int64_t> owned{0};
};

// The write side: write model, idempotency records and the outbox, changed together.
//
// Thread-safety: every method may be called concurrently from any thread.
class WriteStore {
  public:
    using Done = std::function<void(CommandOutcome)>;
    virtual ~WriteStore() = default;

    // Executes `request` in one transaction: idempotency check, write-model change, outbox events
    // and idempotency record. Calls `done` exactly once, after the commit is durable (or with the
    // rejection or StoreError). It may run on the store's own thread, so it must be short and
    // must not call back into the store; it runs synchronously with StoreError::Overloaded when
    // the store's queue is full, or Unavailable once shutdown has begun. Never throws.
    virtual void submit(CommandRequest request, Done done) = 0;

    // The record kept under `key`, if a command with that key was accepted.
    virtual Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string& key) = 0;

    // Up to `limit` committed, unpublished events, in outbox order (per-stream version order).
    // A store whose outbox is shared by several relays (PostgreSQL) returns only the events of
    // the outbox partitions this instance owns at the moment, taking ownership on the first call;
    // a stream always belongs to one partition. Stores with one writer own the whole outbox.
    virtual Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t limit) = 0;

    // fetch_pending leaving out the events of `out` (ascending seqs a relay has on the bus and
    // not yet marked): up to `limit` pending events that are not in it. The default fetches and
    // filters them; a store that can leave them out in its query (PostgreSQL) does, so a relay
    // with batches in flight does not read and decode them again on every fetch. With
    // EventForm::Envelope a store may hand out rows as their envelope only (StoredEvent::
    // as_stored); the default, and a store that cannot, decodes them as fetch_pending does.
    Expected<std::vector<StoredEvent>, StoreError> fetch_pending_except(
        std::size_t limit, std::span<const std::int64_t> out) {
        return fetch_pending_except(limit, out, EventForm::Decoded);
    }
    virtual Expected<std::vector<StoredEvent>, StoreError> fetch_pending_except(
        std::size_t limit, std::span<const std::int64_t> out, EventForm) {
        auto pending = fetch_pending(limit + out.size());
        if (!pending || out.empty()) return pending;
        std::erase_if(*pending, [&](const StoredEvent& e) {
            return std::binary_search(out.begin(), out.end(), e.seq);
        });
        if (pending->size() > limit) pending->resize(limit);
        return pending;
    }

    // Marks events returned by fetch_pending as published. Idempotent.
    virtual Expected<void, StoreError> mark_published(std::span<const StoredEvent> events) = 0;

    // The event log in outbox order, from just after `after_seq` (used to rebuild projections).
    virtual Expected<std::vector<StoredEvent>, StoreError> read_log(std::int64_t after_seq,
                                                                    std::size_t limit) = 0;

    virtual Expected<OutboxStats, StoreError> outbox_stats() = 0;

    // A store shared by several relays (PostgreSQL): the partitions its lease held at the last
    // fetch_pending (none before the first, or after a failed one). The default, a store with one
    // writer: the whole outbox, as one partition. Cheap: no store access.
    virtual OutboxShare outbox_share() { return {}; }

    // Reachable and migrated.
    virtual Expected<void, StoreError> check_ready() = 0;

    // The events of one stream in version order, at most `limit` (the newest of them when cut). Not
    // on the command path: only the admin stream view reads it. The default (test doubles) is
    // Unavailable, so only the real stores need it.
    virtual Expected<std::vector<StreamLogEntry>, StoreError> stream_log(const StreamKey& stream,
                                                                         std::size_t limit) {
        (void)stream;
        (void)limit;
        return unexpected(StoreError{StoreError::Kind::Unavailable, "no stream log in this store"});
    }

    // Called (from the store's thread) after each commit that appended events, so a relay in
    // this process can wake at once instead of polling. Set once, before use.
    virtual void set_commit_listener(std::function<void()> listener) = 0;
};

}  // namespace ordinal
