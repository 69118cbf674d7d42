#pragma once
// JSON form of `ordinal verify`'s report, for scripts and monitoring. Pure, thread-safe; never
// throws (short of allocation failure); text from the stores is emitted as valid UTF-8.
#include <string>

#include "verify/verify_report.h"

namespace ordinal {

// {clean, findings:[{kind, stream (null when no one stream is at fault), detail}],
//  counts:{<kind>: n for every kind}, findingsTotal, findingsListed, eventsChecked,
//  streams:{orders, products}, lag:{streams, events}, outbox:{pending, oldestPendingAgeMs},
//  seconds, eventsPerSecond}
std::string write_verify_report_json(const VerifyReport& report);

}  // namespace ordinal
