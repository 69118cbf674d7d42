#include "verify/event_log_check.h"

namespace ordinal::verify {

bool EventLogCheck::walk(StreamWalk& w, const AuditedEvent& e) {
    ++report_.events_checked;
    check_command(w, e);
    if (w.broken) return false;
    const std::int64_t v = e.event.version;
    if (v != w.log_version + 1) {
        findings_.add(FindingKind::VersionGap, w.name,
                      "version " + std::to_string(v) + " follows version " +
                          std::to_string(w.log_version) + " in the event log");
        w.broken = true;
        return false;
    }
    if (e.seq <= w.last_seq) {
        findings_.add(FindingKind::VersionOrder, w.name,
                      "version " + std::to_string(v) + " (outbox seq " + std::to_string(e.seq) +
                          ") was committed before version " + std::to_string(v - 1) + " (seq " +
                          std::to_string(w.last_seq) + ")");
        w.broken = true;
        return false;
    }
    w.log_version = v;
    w.last_seq = e.seq;
    if (v == w.read_version + 1) w.first_unapplied_created_ms = e.created_ms;
    return true;
}

void EventLogCheck::refuse(StreamWalk& w, const AuditedEvent& e, const std::string& why) {
    findings_.add(FindingKind::InvalidEvent, w.name,
                  "version " + std::to_string(e.event.version) + ": " + why);
    w.broken = true;
}

void EventLogCheck::check_command(const StreamWalk& w, const AuditedEvent& e) {
    if (!e.record) return;
    if (e.record->event_id == e.event.event_id) {
        ++matched_records_;
        return;
    }
    // A key seen again after its record expired is a new command, not a duplicate.
    const bool expired_and_reused =
        retention_ms_ > 0 && e.record->created_ms - e.created_ms >= retention_ms_;
    if (expired_and_reused) return;
    findings_.add(FindingKind::DuplicateCommand, w.name,
                  "version " + std::to_string(e.event.version) + " (event " + e.event.event_id +
                      ") was caused by key " + e.event.causation_id +
                      ", whose command recorded event " + e.record->event_id);
}

}  // namespace ordinal::verify
