#pragma once
// The event log's own invariants, one event at a time: versions 1, 2, 3... in outbox order, and
// one event per command (the idempotency record of an event's key names that event).
#include <cstdint>
#include <optional>
#include <string>

#include "ports/audit_source.h"
#include "verify/findings.h"

namespace ordinal::verify {

// What one stream's events say, as far as they were walked.
struct StreamWalk {
    std::string name;               // "order/<id>"
    std::int64_t read_version = 0;  // applied by the read model (0: no row)
    std::int64_t log_version = 0;   // last version in the log
    std::int64_t last_seq = 0;
    std::optional<std::int64_t> first_unapplied_created_ms;
    bool broken = false;  // a finding about the log itself: its rows are not judged
};

class EventLogCheck {
  public:
    EventLogCheck(Findings& findings, VerifyReport& report, std::int64_t idempotency_retention_ms)
        : findings_(findings), report_(report), retention_ms_(idempotency_retention_ms) {}

    // Version and outbox order of the next event; false once the stream is broken.
    bool walk(StreamWalk& w, const AuditedEvent& e);
    // An event that cannot follow the ones before it: the stream is broken from here on.
    void refuse(StreamWalk& w, const AuditedEvent& e, const std::string& why);
    // Idempotency records that named an event of the log, to find the ones that name none.
    std::int64_t matched_records() const { return matched_records_; }

  private:
    void check_command(const StreamWalk& w, const AuditedEvent& e);

    Findings& findings_;
    VerifyReport& report_;
    std::int64_t retention_ms_;
    std::int64_t matched_records_ = 0;
};

}  // namespace ordinal::verify
