#pragma once
// JSON bodies of HTTP answers (docs/design.md "HTTP API v1"). Members appear in the contract's
// order; client-provided text is always emitted as valid UTF-8. Pure functions, thread-safe, never
// throw (short of allocation failure).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/field_error.h"
#include "domain/order.h"
#include "ports/command_types.h"
#include "ports/read_store.h"
#include "ports/service_api.h"

namespace ordinal {

// {status:"accepted"|"duplicate", eventId, streamId, orderId (order streams only), version,
//  consistencyToken}
std::string write_acknowledgement_json(const Acknowledgement& ack);

// {orderId,userId,status,currency,items:[{sku,qty,unitPriceMinor,lineTotalMinor}],totalMinor,
//  version,createdAt,updatedAt}
std::string write_order_json(const Order& order);

// {sku,name,currency,priceMinor,stock (null = unlimited),version}
std::string write_product_json(const ProductView& product);

// {orders:[order views], nextCursor: string|null}; `next_cursor` is already encoded.
std::string write_order_page_json(const std::vector<Order>& orders,
                                  const std::optional<std::string>& next_cursor);

// Every error body: {error, message, ...extra}. Optional members appear only when set;
// `details` only when non-empty.
struct ErrorBody {
    std::string error;    // machine code, e.g. "validation_failed"
    std::string message;  // human text; never internals
    std::vector<FieldError> details;
    std::optional<std::int64_t> current_version;  // "currentVersion"
    std::optional<std::string> sku;
    std::optional<std::string> from;
    std::optional<std::string> to;
};
std::string write_error_json(const ErrorBody& error);

// GET /healthz: {"status":"ok"}
std::string write_health_json();

// GET /readyz: {status:"ready"|"not_ready", components:[{name, ok, detail}]}
std::string write_readiness_json(bool ready, const std::vector<ComponentHealth>& components);

// GET /v1/admin/status:
// {version, roles, components:[{name,ok,detail}],
//  outbox: {pending, oldestPendingAgeMs, lastSeq, publishedSeq,
//           partitions:[{partition, owner, ownerState, stalled}]} | null,
//  projection: {streams, positions:[{partition, offset}], deadLetters,
//               partitions:[{partition, owner, ownerState, position, busEnd, behind,
//                            positionMovedAgoMs, stalled, stalledReason}]} | null,
//  relayPublishedSeq, gateWaiting, processId,
//  processes: [{id, roles, version, startedAt, lastSeenAt, lastSeenAgoMs, state:"live"|"stale",
//               detail}] | null}
std::string write_status_json(const StatusReport& report);

// A heartbeat's detail: {listen, relayPublishedSeq, assignment?: [partition],
// outboxPartitions?: [int], publishedEnds?: [{partition, end}],
// positions?: [{partition, offset, end?, movedAgoMs, waitingMs}]}
std::string write_process_detail_json(const ProcessDetail& detail);
// Back from the registry: what is missing or of another type stays at its default.
ProcessDetail read_process_detail_json(const std::string& text);

// GET /v1/admin/requests/{id}, and a 202 from POST rebuild or retry: {id, kind, target, reason,
// state, requestedBy, owner, attempts, requestedAt, startedAt, finishedAt, progress, result,
// error:{code,message}|null}
std::string write_admin_request_json(const AdminRequest& request);

// POST /v1/admin/projections/rebuild: {status:"rebuilt", eventsReplayed, durationMs}
std::string write_rebuild_json(const RebuildReport& report);

// GET /v1/admin/dead-letters: {deadLetters:[{id, partition, offset, stream, version, eventType,
// payload, reason, createdAt}]}
std::string write_dead_letters_json(const std::vector<DeadLetter>& letters);

// POST /v1/admin/dead-letters/retry, /v1/admin/dead-letters/{id}/retry:
// {retried, applied, remaining, advanced:[{stream, version}]} (the streams the retry moved, each
// with the version it reached)
std::string write_dead_letter_retry_json(const DeadLetterRetry& retry);

// POST /v1/admin/dead-letters/{id}/discard: {discarded: id, reason}
std::string write_discard_json(std::int64_t id, const std::string& reason);

// GET /v1/admin/audit: {entries:[{id, at, action, target|null, reason|null, outcome,
// result: object|null (done), error: string|null (failed), process, requestedBy|null,
// request|null}]}
std::string write_audit_json(const std::vector<AuditEntry>& entries);

}  // namespace ordinal
