#pragma once
// `ordinal verify`: reads a snapshot of the write store and of the read store and reports every
// broken invariant of docs/design.md. Pure logic over the audit ports (ports/audit_source.h), so it
// is tested with fakes; the adapters only stream rows.
//
// What is checked, per stream (merged by stream id, so memory grows with the number of products,
// never with the number of orders or events):
//   event log   versions 1, 2, 3... in outbox order; each event can follow the ones before it
//               (order state machine, totals, a stock change per line); one event per command
//               (the idempotency record of an event's key names that event); no idempotency
//               record without its event
//   write model every order and product row equals the replay of its events; a product's stock
//               equals the last ProductUpserted figure minus the quantities placed and plus those
//               released by cancellations after it (by stock_seq), never negative, and equals
//               the figure stamped on its newest stock change; stock_seq numbers are 1..n;
//               reserved equals the quantities of the product's non-cancelled orders
//   read model  every row equals the replay of its stream up to the row's version; product stock
//               equals the newest stock figure among the events the read model has applied;
//               nothing the read model holds is missing from the log
//   outbox      nothing pending longer than `max_pending_age_ms`
//
// Live systems. The read snapshot is taken first, the write snapshot second, so everything the
// read model holds must be in the write log: a read row ahead of the log is always drift. A read
// model behind the log is lag, not drift, when its first missing event either was still
// unpublished just before the read snapshot (committed at or after the oldest pending event of
// that moment: the outbox bound judges those) or was committed less than
// `projection_grace_ms` before the read snapshot. Otherwise the projection lost it: drift.
#include <cstddef>
#include <cstdint>

#include "domain/expected.h"
#include "ports/audit_source.h"
#include "ports/clock.h"
#include "ports/store_error.h"
#include "verify/verify_report.h"

namespace ordinal {

struct VerifyOptions {
    std::int64_t max_pending_age_ms = 60'000;
    std::int64_t projection_grace_ms = 60'000;
    // Idempotency records expire after this (0: never). A key seen again after its record expired
    // is a new command, so its second event is not a duplicate.
    std::int64_t idempotency_retention_ms = 0;
    std::size_t max_findings = 100;  // listed; every finding is counted
};

// Takes the snapshots (read first, then write) and checks them. `clock` is the wall clock the
// write store stamps events with (ages of events are judged by it). Returns the StoreError of the
// first store read that failed.
Expected<VerifyReport, StoreError> verify_stores(WriteAudit& write, ReadAudit& read,
                                                 const Clock& clock, const VerifyOptions& options);

}  // namespace ordinal
