#include "app/deployment_picture.h"

#include <algorithm>

#include "codec/response_json.h"

namespace ordinal {

PictureInput picture_input(std::vector<BusPosition> positions,
                           const std::vector<ProcessRecord>& processes,
                           std::optional<std::int64_t> local_end, const PictureSettings& settings) {
    PictureInput in;
    if (settings.kafka) {
        std::erase_if(positions, [](const BusPosition& p) { return p.partition == "local"; });
    } else {
        in.local_end = local_end;
    }
    in.positions = std::move(positions);
    for (const ProcessRecord& p : processes) {
        ProcessDetail d = read_process_detail_json(p.detail);
        in.processes.push_back(ReportedProcess{
            p.id, p.age_ms, std::move(d.positions),
            d.outbox_partitions.value_or(std::vector<std::int64_t>{}), std::move(d.published_ends),
            p.roles.find("projector") != std::string::npos});
    }
    in.stale_after_ms = settings.stale_after_ms;
    in.stall_after_ms = settings.stall_after_ms;
    return in;
}

}  // namespace ordinal
