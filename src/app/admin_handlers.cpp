#include "app/admin_handlers.h"

#include <spdlog/spdlog.h>

#include "app/verify.h"
#include "codec/response_json.h"
#include "codec/verify_report_json.h"

namespace ordinal {

AdminOutcome discard_dead_letter(ReadStore& store, const AdminRequest& request) {
    if (!request.target) return AdminOutcome{false, {}, "not_found", "no such dead letter"};
    auto discarded = store.discard_dead_letter(*request.target, request.reason);
    if (!discarded) {
        spdlog::warn("dead-letter discard failed: {}", discarded.error().message);
        return AdminOutcome{
            false, {}, "unavailable", "dead-letter discard failed: a store is unavailable"};
    }
    if (!*discarded) return AdminOutcome{false, {}, "not_found", "no such dead letter"};
    spdlog::info("dead letter {} discarded: {}", *request.target, request.reason);
    return AdminOutcome{true, write_discard_json(*request.target, request.reason), {}, {}};
}

AdminOutcome verify_stores_now(const Settings& settings) {
    auto report = run_verify(settings);
    if (!report) {
        spdlog::warn("verify failed: {}", report.error());
        // The reason may name store internals: it goes to the log, the client gets its gist.
        return AdminOutcome{false,
                            {},
                            "unavailable",
                            "verify could not read the stores to the end (a store unavailable, or "
                            "an event this build cannot decode); this process's log says which"};
    }
    spdlog::info("verify: {} findings over {} events", report->total_findings(),
                 report->events_checked);
    return AdminOutcome{true, write_verify_report_json(*report), {}, {}};
}

}  // namespace ordinal
