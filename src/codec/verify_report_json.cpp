#include "codec/verify_report_json.h"

#include "codec/strict_json_reader.h"

namespace ordinal {

std::string write_verify_report_json(const VerifyReport& r) {
    using ojson = nlohmann::ordered_json;
    ojson findings = ojson::array();
    for (const Finding& f : r.findings) {
        findings.push_back(ojson{{"kind", std::string(finding_kind_name(f.kind))},
                                 {"stream", f.stream.empty() ? ojson(nullptr) : ojson(f.stream)},
                                 {"detail", f.detail}});
    }
    ojson counts = ojson::object();
    for (std::size_t k = 0; k < kFindingKinds; ++k) {
        counts[std::string(finding_kind_name(static_cast<FindingKind>(k)))] = r.counts[k];
    }
    const ojson j{{"clean", r.clean()},
                  {"findings", std::move(findings)},
                  {"counts", std::move(counts)},
                  {"findingsTotal", r.total_findings()},
                  {"findingsListed", r.findings.size()},
                  {"eventsChecked", r.events_checked},
                  {"streams", ojson{{"orders", r.order_streams}, {"products", r.product_streams}}},
                  {"lag", ojson{{"streams", r.lagging_streams}, {"events", r.lagging_events}}},
                  {"outbox", ojson{{"pending", r.outbox_pending},
                                   {"oldestPendingAgeMs", r.oldest_pending_age_ms}}},
                  {"seconds", r.seconds},
                  {"eventsPerSecond", r.events_per_second()}};
    return dump_json(j);
}

}  // namespace ordinal
