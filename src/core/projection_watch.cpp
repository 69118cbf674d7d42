#include "core/projection_watch.h"

#include <set>

namespace ordinal {

namespace {
const char* const kBehind = "ordinal_projection_behind";
const char* const kBehindHelp =
    "Bus messages of a partition not yet projected: its end minus the read store's position, "
    "from the stores and the heartbeats";
const char* const kStalled = "ordinal_projection_stalled";
const char* const kStalledHelp =
    "1 while a partition's projector is stale, or its position has not moved for "
    "--projection-stall-ms while messages wait";
}  // namespace

ProjectionWatch::ProjectionWatch(MetricsRegistry& metrics,
                                 std::function<void(const std::string&)> log)
    : metrics_(metrics), log_(std::move(log)) {}

void ProjectionWatch::describe(MetricsRegistry& metrics) {
    metrics.describe_gauge(kBehind, kBehindHelp);
    metrics.describe_gauge(kStalled, kStalledHelp);
}

ProjectionWatch::Series& ProjectionWatch::series(const std::string& partition) {
    auto it = series_.find(partition);
    if (it != series_.end()) return it->second;
    Series s;
    const Labels labels{{"partition", partition}};
    s.behind = &metrics_.gauge(kBehind, kBehindHelp, labels);
    s.stalled = &metrics_.gauge(kStalled, kStalledHelp, labels);
    return series_.emplace(partition, s).first->second;
}

void ProjectionWatch::observe(const std::vector<PartitionPicture>& partitions) {
    std::set<std::string> seen;
    for (const PartitionPicture& p : partitions) {
        seen.insert(p.partition);
        Series& s = series(p.partition);
        // Unknown (no end reported yet): the last figure stays, as for other store gauges.
        if (p.behind) s.behind->set(static_cast<double>(*p.behind));
        s.stalled->set(p.stalled ? 1.0 : 0.0);
        if (p.stalled != s.was_stalled && log_) {
            log_(p.stalled ? "projection of " + p.partition +
                                 " stalled: " + p.stalled_reason.value_or("") +
                                 (p.behind ? " (" + std::to_string(*p.behind) + " behind)" : "")
                           : "projection of " + p.partition + " moving again");
        }
        s.was_stalled = p.stalled;
    }
    // A partition gone from the picture (a topic replaced, a rebuild) is no longer stalled.
    for (auto& [partition, s] : series_) {
        if (seen.count(partition) || !s.was_stalled) continue;
        s.stalled->set(0);
        s.was_stalled = false;
        if (log_) log_("projection of " + partition + " no longer held or stored; stall over");
    }
}

}  // namespace ordinal
