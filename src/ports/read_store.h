#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "ports/batch_times.h"
#include "ports/store_error.h"
#include "ports/trace_context.h"

namespace ordinal {

struct ProductView {
    std::string sku;
    std::string name;
    std::string currency;
    std::int64_t price_minor = 0;
    std::optional<std::int64_t> stock;
    std::int64_t version = 0;
};

// Position in a user's order list: newest first by (created_at, order id).
struct OrderCursor {
    std::string created_at;
    std::string order_id;
};

struct OrderPage {
    std::vector<Order> orders;
    std::optional<OrderCursor> next;
};

// Where a bus consumer has got to: for the in-process bus, partition "local" and the outbox
// sequence; for Kafka, a topic partition and its next offset.
struct BusPosition {
    std::string partition;
    std::int64_t offset = 0;
};

struct ProjectionResult {
    std::vector<std::pair<StreamKey, std::int64_t>> advanced;  // streams whose version moved
    std::size_t applied = 0;
    std::size_t skipped = 0;        // already applied (redelivery); for deliveries, also gaps
    std::size_t dead_lettered = 0;  // events the store dead-lettered itself (apply_delivery only)
};

struct ProjectionStats {
    std::int64_t streams = 0;
    std::vector<BusPosition> positions;
    std::int64_t dead_letters = 0;
};

// A bus message the projector could not apply: undecodable, failing to apply, or waiting behind
// an earlier dead letter of its stream. Kept in the read store (written in the same transaction
// as the bus position that moved past it) until an operator retries it.
struct DeadLetter {
    std::int64_t id = 0;   // assigned by the store
    BusPosition position;  // the message's own partition and offset
    std::string stream;    // "order/<id>" or "product/<sku>"; empty if not even that was readable
    std::int64_t version = 0;  // 0 if unknown
    std::string event_type;    // empty if unknown
    std::string payload;       // the message value exactly as received: an event envelope
                               // (codec/event_json.h), which is what a retry decodes
    std::string reason;
    std::string created_at;  // RFC 3339, set by the store
};

// One partition's worth of messages from a bus that may deliver a stream's versions with gaps
// (Kafka: a failed publish is retried whole, so a later copy of the missing versions follows).
struct Delivery {
    std::vector<Event> events;     // decoded messages, in partition order
    std::vector<DeadLetter> dead;  // messages to dead-letter as they are (undecodable, unappliable)
    BusPosition position;          // the next offset to read in this partition
    // Set by a bus that delivers every stream in order and loses nothing (the in-process bus):
    // there a gap no dead letter explains is a bug, and fails the delivery as in apply(),
    // instead of being skipped for a later copy that would never come.
    bool in_order = false;
    // The trace context each of `events` came with (same size, an entry empty when the message
    // had none), or empty altogether: only logged, never applied.
    std::vector<TraceContext> traces{};
};

// One partition's share of a poll of a partitioned bus, as apply_delivery() takes it.
struct DeliveryPart {
    const Delivery* delivery = nullptr;
    std::span<const std::int64_t> offsets;
};

// Which dead letters to list (GET /v1/admin/dead-letters): every condition given must hold.
// Discarded ones are never listed.
struct DeadLetterQuery {
    std::size_t limit = 100;
    std::string event_type;  // exact; empty: any
    std::string reason;      // a substring of the reason, case-sensitive; empty: any
    std::string since;       // RFC 3339 UTC as the store writes created_at; empty: no bound
    std::string until;       // created_at before this; empty: no bound
};

struct DeadLetterRetry {
    std::int64_t retried = 0;    // dead letters looked at (0 for an id that does not exist)
    std::int64_t applied = 0;    // applied now, or found already applied: both removed
    std::int64_t remaining = 0;  // of the retried ones, those still dead-lettered
    std::vector<std::pair<StreamKey, std::int64_t>> advanced;  // as ProjectionResult::advanced
};

// An operator's request (rebuild, dead-letter retry) taken on any process that serves HTTP and
// carried out by one projector process, recorded in the read store so that every process sees it.
// Times are the store's clock, in Unix ms (0: not yet).
struct AdminRequest {
    std::int64_t id = 0;
    std::string kind;  // "rebuild", "retry_dead_letters", "discard_dead_letter", "verify"
    std::optional<std::int64_t> target;  // the dead letter of a retry of one; none: all
    std::string reason;                  // the operator's, when the kind asks one (a discard)
    std::string state;                   // "queued", "running", "done", "failed"
    std::string requested_by;            // process id
    std::string owner;                   // the process running (or that ran) it; empty if queued
    std::int64_t attempts = 0;           // claims: more than one when an owner died mid-way
    std::int64_t requested_ms = 0, started_ms = 0, finished_ms = 0;
    std::string progress;    // JSON object, as the owner last reported it; empty if none
    std::string result;      // JSON object, once done
    std::string error_code;  // once failed: "not_found", "unavailable", ...
    std::string error;       // once failed: safe for clients
};

// One admin action as the audit log keeps it (read store, newest first when listed): every
// admin request when it finishes, and actions taken outside requests (a product PUT).
struct AuditEntry {
    std::int64_t id = 0;       // assigned by the store
    std::int64_t at_ms = 0;    // the store's clock, Unix ms; set by the store
    std::string action;        // a request's kind, or "product_upsert"
    std::string target;        // "dead-letter/7", "product/<sku>"; empty: the whole read model
    std::string reason;        // the operator's, if given
    std::string outcome;       // "done" or "failed"
    std::string result;        // JSON object when done; when failed, the error message
    std::string process;       // the process that carried it out
    std::string requested_by;  // the process that took the request; empty if the same
    std::optional<std::int64_t> request;  // the admin request, if it was one
};

// A finished admin request's audit entry, as every read store writes it.
inline AuditEntry audit_entry_of(const AdminRequest& r) {
    AuditEntry e;
    e.action = r.kind;
    e.target = r.target ? "dead-letter/" + std::to_string(*r.target) : std::string();
    e.reason = r.reason;
    e.outcome = r.state;
    e.result = r.state == "done" ? r.result : r.error;
    e.process = r.owner;
    e.requested_by = r.requested_by == r.owner ? std::string() : r.requested_by;
    e.request = r.id;
    return e;
}

// A process's row in the read store, rewritten by its heartbeat.
struct ProcessRecord {
    std::string id;     // random, new at every start
    std::string roles;  // "api,relay,projector"
    std::string version;
    std::int64_t started_ms = 0;
    std::int64_t last_seen_ms = 0;
    std::int64_t age_ms = 0;  // how long ago last_seen was, by the store's clock; set when listed
    std::string detail;       // JSON object: what the process reports of its work (assignment...)
};

// The read model. Thread-safety: every method may be called concurrently.
class ReadStore {
  public:
    virtual ~ReadStore() = default;

    // Applies `events` (each stream's events in version order) and records `position`, in one
    // transaction. An event whose version is not above its stream's applied version is skipped
    // (redelivery). An event that would leave a gap fails the whole batch with Internal, and
    // nothing is written.
    virtual Expected<ProjectionResult, StoreError> apply(std::span<const Event> events,
                                                         const BusPosition& position) = 0;

    // Applies a bus delivery and records its position, in one transaction; the position never
    // moves back. Unlike apply(), a version past its stream's next one is not an error: it is
    // skipped (a complete later copy follows), unless its stream has a dead letter ("blocked":
    // no copy of that version will come), in which case it is dead-lettered too, so that a retry
    // can apply the stream in order. `delivery.dead` is stored as given, before the events are
    // sequenced (so it blocks its streams for them). `offsets[i]` is the bus offset of
    // `delivery.events[i]`, recorded with it if it is dead-lettered; Internal if the sizes differ.
    // Anything else that fails to apply fails the whole delivery, as for apply(), and nothing is
    // written. `advanced` and the counts are as for apply().
    virtual Expected<ProjectionResult, StoreError> apply_delivery(
        const Delivery& delivery, std::span<const std::int64_t> offsets) = 0;

    // Several partitions' deliveries, each by the rule of apply_delivery(), in one transaction:
    // a poll of a partitioned bus then costs one commit, not one per partition it touched.
    // Results in the order given. On an error nothing is written by a store that overrides this;
    // the default applies each part in a transaction of its own and stops at the first error,
    // so in general: on an error, deliver each part again from the position the store holds.
    virtual Expected<std::vector<ProjectionResult>, StoreError> apply_deliveries(
        std::span<const DeliveryPart> parts) {
        std::vector<ProjectionResult> out;
        out.reserve(parts.size());
        for (const DeliveryPart& part : parts) {
            auto r = apply_delivery(*part.delivery, part.offsets);
            if (!r) return unexpected(r.error());
            out.push_back(std::move(*r));
        }
        return out;
    }

    // How many dead letters there are: cheap enough for every /readyz and /metrics scrape.
    virtual Expected<std::int64_t, StoreError> dead_letter_count() = 0;

    // Dead letters matching `query`, oldest first, at most `query.limit`; bound parameters only.
    virtual Expected<std::vector<DeadLetter>, StoreError> list_dead_letters(
        const DeadLetterQuery& query) = 0;

    // Discards the dead letter `id` with the operator's `reason`: it leaves the list, the count
    // and every retry, but stays in the store as a tombstone that still holds its stream (later
    // versions of the stream are dead-lettered behind it, as before): the read model never
    // claims a version whose event it did not apply, so a consistency token naming that version
    // never passes on a row that lacks it. A rebuild (reset) clears tombstones with the rest.
    // False if there is no such dead letter. Discarding one again changes nothing and is true:
    // a request run again after its owner died finds its work done.
    virtual Expected<bool, StoreError> discard_dead_letter(std::int64_t id,
                                                           const std::string& reason) = 0;

    // Decodes the dead letters again (the one with `id`, or all) and applies them in one
    // transaction, each stream in version order, by the rule of apply_delivery(): a version at or
    // below its stream's is already applied, the next one is applied. Those are removed. The
    // rest stay, with a new reason: undecodable, failing to apply (only that event is rolled
    // back), or a version past the next one (kept, never skipped: it is all there is of it), as
    // are later versions of their streams.
    virtual Expected<DeadLetterRetry, StoreError> retry_dead_letters(
        std::optional<std::int64_t> id) = 0;

    // The read queries. Each answers from the read model as committed when it runs (no
    // transaction spans two calls) and may lag the write side: a caller that must see its own
    // write waits for its consistency token first (ConsistencyWait). Never throws; a store that
    // cannot answer is a StoreError, a missing row is not.
    //
    // The order as last projected, or nullopt if no OrderPlaced for it has been applied.
    virtual Expected<std::optional<Order>, StoreError> get_order(const std::string& order_id) = 0;
    // A user's orders, newest first by (created_at, order id), at most `limit` (0: none), those
    // strictly after `after` when given. `next` is set only when more follow: pass it back as
    // `after` for the next page; pages are stable while orders are added (new ones sort first).
    virtual Expected<OrderPage, StoreError> list_user_orders(
        const std::string& user_id, std::size_t limit, const std::optional<OrderCursor>& after) = 0;
    // The product as last projected, or nullopt while no ProductUpserted for it has been applied
    // (a row that stock changes created first is a placeholder, not a product). `stock` is the
    // figure of the newest stock change (highest stock_seq) whatever order they arrived in; empty
    // for unlimited stock.
    virtual Expected<std::optional<ProductView>, StoreError> get_product(
        const std::string& sku) = 0;

    // The last applied version of a stream (0 if none).
    virtual Expected<std::int64_t, StoreError> stream_version(const StreamKey& stream) = 0;
    // The same for many streams, in the order given: for the consistency gate, which looks at
    // every stream waited on each time the projection moves. The default asks one by one; a
    // store across the network does it in one round trip.
    virtual Expected<std::vector<std::int64_t>, StoreError> stream_versions(
        std::span<const StreamKey> streams) {
        std::vector<std::int64_t> out;
        out.reserve(streams.size());
        for (const StreamKey& s : streams) {
            auto v = stream_version(s);
            if (!v) return unexpected(v.error());
            out.push_back(*v);
        }
        return out;
    }

    // The projection batches kept (ports/batch_times.h) that advanced `stream` and committed at
    // or after `since_ms` (the store's clock, Unix ms), in commit order: at most a bounded number,
    // found among a bounded number of batches from `since_ms` on. Not on the command path: only
    // the admin stream view reads it. The default (test doubles) keeps no batch times.
    virtual Expected<std::vector<StreamApplyTime>, StoreError> stream_apply_times(
        const StreamKey& stream, std::int64_t since_ms) {
        (void)stream;
        (void)since_ms;
        return std::vector<StreamApplyTime>{};
    }

    // Stored bus position of `partition` (0 if none).
    virtual Expected<std::int64_t, StoreError> bus_position(const std::string& partition) = 0;
    // Every stored position, in partition order: stats() without its counts, cheap enough to be
    // read every second. The default (test doubles) takes them from stats().
    virtual Expected<std::vector<BusPosition>, StoreError> bus_positions() {
        auto s = stats();
        if (!s) return unexpected(s.error());
        return std::move(s->positions);
    }

    virtual Expected<ProjectionStats, StoreError> stats() = 0;

    // Deletes every projected row, position and dead letter, for a rebuild, and records in the
    // same transaction that a rebuild is under way; finish_rebuild() clears that record once the
    // whole log is replayed. A rebuild that never finished (its process killed, the store gone)
    // leaves the record, so every process sees the read model is incomplete (rebuild_started())
    // instead of serving it as if healthy, and the next projector start rebuilds again.
    virtual Expected<void, StoreError> reset() = 0;
    virtual Expected<void, StoreError> finish_rebuild() = 0;
    // When the unfinished rebuild began (RFC 3339), or nullopt if none is under way.
    virtual Expected<std::optional<std::string>, StoreError> rebuild_started() = 0;

    virtual Expected<void, StoreError> check_ready() = 0;

    // Admin requests. submit: records a new queued request and returns it with `true`, except
    // that while a rebuild is queued or running a rebuild request is answered with that one and
    // `false` (one rebuild at a time, whichever process asks).
    virtual Expected<std::pair<AdminRequest, bool>, StoreError> submit_admin_request(
        const std::string& kind, std::optional<std::int64_t> target, const std::string& reason,
        const std::string& requested_by) = 0;
    // Atomically hands the oldest claimable request to `owner` (state running, attempts + 1):
    // a queued one, or a running one whose owner's heartbeat is older than `stale_after_ms`
    // (it died mid-way: the work is done again) or whose owner is `owner` itself (its outcome
    // could not be recorded: a process runs one request at a time, so it is not running now).
    // Nullopt if there is none. Exactly one caller gets each claim, in any number of processes.
    virtual Expected<std::optional<AdminRequest>, StoreError> claim_admin_request(
        const std::string& owner, std::int64_t stale_after_ms) = 0;
    // Progress and outcome, written only while `owner` still holds the request (a process taken
    // for dead and replaced cannot overwrite its successor). False if it no longer does.
    virtual Expected<bool, StoreError> report_admin_progress(std::int64_t id,
                                                             const std::string& owner,
                                                             const std::string& progress) = 0;
    // finish also appends the request's audit entry, in the same transaction: exactly one per
    // request, from the owner whose outcome stands.
    virtual Expected<bool, StoreError> finish_admin_request(const AdminRequest& outcome) = 0;
    virtual Expected<std::optional<AdminRequest>, StoreError> get_admin_request(
        std::int64_t id) = 0;

    // The audit log: an action taken outside an admin request, and the newest `limit` entries,
    // newest first.
    virtual Expected<void, StoreError> record_audit(const AuditEntry& entry) = 0;
    virtual Expected<std::vector<AuditEntry>, StoreError> list_audit(std::size_t limit) = 0;

    // Process registry: insert or refresh `self` (last_seen = now), and forget processes not
    // seen for a day.
    virtual Expected<void, StoreError> heartbeat(const ProcessRecord& self) = 0;
    // Every registered process, with age_ms set, oldest start first.
    virtual Expected<std::vector<ProcessRecord>, StoreError> list_processes() = 0;
};

}  // namespace ordinal
