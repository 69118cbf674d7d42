// The names and the human form of `ordinal verify`'s report (the JSON form is in codec/).
#include "verify/verify_report.h"

#include <cstdio>
#include <numeric>
#include <string>

namespace ordinal {

std::string_view finding_kind_name(FindingKind kind) {
    static constexpr std::string_view kNames[kFindingKinds] = {
        "version_gap",     "version_order",  "invalid_event",     "write_mismatch",
        "stock_mismatch",  "negative_stock", "duplicate_command", "idempotency_orphan",
        "missing_in_read", "read_ahead",     "read_mismatch",     "outbox_stale"};
    return kNames[static_cast<std::size_t>(kind)];
}

std::int64_t VerifyReport::total_findings() const {
    return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

double VerifyReport::events_per_second() const {
    return seconds > 0 ? static_cast<double>(events_checked) / seconds : 0.0;
}

std::string format_verify_report(const VerifyReport& r) {
    std::string out;
    for (const Finding& f : r.findings) {
        out += "DRIFT " + std::string(finding_kind_name(f.kind)) + " ";
        out += f.stream.empty() ? std::string("-") : f.stream;
        out += ": " + f.detail + "\n";
    }
    const std::int64_t total = r.total_findings();
    if (total > static_cast<std::int64_t>(r.findings.size())) {
        out += "... and " + std::to_string(total - static_cast<std::int64_t>(r.findings.size())) +
               " more findings (--max-findings)\n";
    }
    char line[512];
    if (total == 0) {
        out += "verify: clean\n";
    } else {
        out +=
            "verify: DRIFT, " + std::to_string(total) + (total == 1 ? " finding:" : " findings:");
        for (std::size_t k = 0; k < kFindingKinds; ++k) {
            if (r.counts[k] == 0) continue;
            out += " " + std::string(finding_kind_name(static_cast<FindingKind>(k))) + "=" +
                   std::to_string(r.counts[k]);
        }
        out += "\n";
    }
    std::snprintf(line, sizeof line,
                  "checked %lld events (%lld order and %lld product streams) in %.2f s, %.0f "
                  "events/s\n",
                  static_cast<long long>(r.events_checked), static_cast<long long>(r.order_streams),
                  static_cast<long long>(r.product_streams), r.seconds, r.events_per_second());
    out += line;
    std::snprintf(line, sizeof line,
                  "lag (not drift): %lld streams, %lld events behind; outbox: %lld pending, oldest "
                  "%.1f s\n",
                  static_cast<long long>(r.lagging_streams),
                  static_cast<long long>(r.lagging_events),
                  static_cast<long long>(r.outbox_pending),
                  static_cast<double>(r.oldest_pending_age_ms) / 1000.0);
    out += line;
    return out;
}

}  // namespace ordinal
