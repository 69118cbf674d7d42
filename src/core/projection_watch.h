#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/projection_picture.h"
#include "ports/metrics.h"

namespace ordinal {

// Keeps the projection's partitions, as the deployment's picture shows them, in this process's
// metrics and log: ordinal_projection_behind{partition} and ordinal_projection_stalled{partition},
// and one warning line when a partition's stall starts, one when it ends. Every api and projector
// process runs one, so any of them, scraped or read, tells of the whole pipeline. Not
// thread-safe: one thread observes.
class ProjectionWatch {
  public:
    ProjectionWatch(MetricsRegistry& metrics, std::function<void(const std::string&)> log);
    // Declares its two families in `metrics` before any partition is known: a process serves
    // /metrics before the watch exists (the service calls this before starting HTTP), and
    // alerts name both families.
    static void describe(MetricsRegistry& metrics);

    void observe(const std::vector<PartitionPicture>& partitions);

  private:
    struct Series {
        Gauge* behind = nullptr;
        Gauge* stalled = nullptr;
        bool was_stalled = false;
    };
    Series& series(const std::string& partition);

    MetricsRegistry& metrics_;
    std::function<void(const std::string&)> log_;
    std::map<std::string, Series> series_;
};

}  // namespace ordinal
