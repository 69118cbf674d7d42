#include "verify/read_model_check.h"

#include "verify/difference_text.h"

namespace ordinal::verify {

bool ReadModelCheck::judge_missing(const StreamWalk& w) {
    const std::int64_t created = w.first_unapplied_created_ms.value_or(0);
    const bool in_flight = created >= times_.oldest_pending_before_ms ||
                           created > times_.taken_ms - times_.projection_grace_ms;
    if (in_flight) {
        ++report_.lagging_streams;
        report_.lagging_events += w.log_version - w.read_version;
        return false;
    }
    findings_.add(FindingKind::MissingInRead, w.name,
                  "read model version " + std::to_string(w.read_version) + ", event log version " +
                      std::to_string(w.log_version) + ": version " +
                      std::to_string(w.read_version + 1) + " was committed " +
                      seconds_text(times_.taken_ms - created) + " before the read snapshot");
    return true;
}

ReadVerdict ReadModelCheck::judge_version(const StreamWalk& w, bool has_row) {
    if (has_row && w.read_version > w.log_version) {
        findings_.add(FindingKind::ReadAhead, w.name,
                      w.log_version == 0
                          ? "read model version " + std::to_string(w.read_version) +
                                ", but the event log has no such stream"
                          : "read model version " + std::to_string(w.read_version) +
                                ", event log version " + std::to_string(w.log_version));
        return {true, false};
    }
    const bool drift = w.read_version < w.log_version && judge_missing(w);
    return {drift, has_row && w.read_version > 0};
}

}  // namespace ordinal::verify
