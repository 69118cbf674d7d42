#pragma once
// The read model against the log, by the rule in store_verifier.h: a row ahead of the log is
// always drift; a row behind it is lag while its first missing event may still be in flight.
#include <cstdint>

#include "verify/event_log_check.h"
#include "verify/findings.h"

namespace ordinal::verify {

struct ReadVerdict {
    bool drift = false;    // a finding about the row's version was added
    bool compare = false;  // the row may be compared with the replay at its version
};

struct ReadSnapshotTimes {
    std::int64_t taken_ms = 0;                  // when the read snapshot was taken
    std::int64_t oldest_pending_before_ms = 0;  // oldest unpublished event just before it
    std::int64_t projection_grace_ms = 0;
};

class ReadModelCheck {
  public:
    ReadModelCheck(Findings& findings, VerifyReport& report, ReadSnapshotTimes times)
        : findings_(findings), report_(report), times_(times) {}

    ReadVerdict judge_version(const StreamWalk& w, bool has_row);

  private:
    bool judge_missing(const StreamWalk& w);  // true for drift, false for lag

    Findings& findings_;
    VerifyReport& report_;
    ReadSnapshotTimes times_;
};

}  // namespace ordinal::verify
