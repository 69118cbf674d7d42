#include "core/projection_picture.h"

#include <algorithm>
#include <set>

namespace ordinal {
namespace {

std::int64_t ms_between(std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// Of the processes claiming something, the one to name: live before stale, then the most
// recently heard from.
const ReportedProcess* pick_owner(const std::vector<const ReportedProcess*>& claiming,
                                  std::int64_t stale_after_ms) {
    const ReportedProcess* best = nullptr;
    for (const ReportedProcess* p : claiming) {
        if (!best) {
            best = p;
            continue;
        }
        const bool live = p->age_ms <= stale_after_ms, best_live = best->age_ms <= stale_after_ms;
        if (live != best_live ? live : p->age_ms < best->age_ms) best = p;
    }
    return best;
}

const char* state_of(const ReportedProcess& p, std::int64_t stale_after_ms) {
    return p.age_ms > stale_after_ms ? "stale" : "live";
}

}  // namespace

std::vector<PartitionProgress> ProgressTracker::observe(const std::vector<Reading>& held,
                                                        std::chrono::steady_clock::time_point now) {
    std::map<std::string, Seen> kept;
    std::vector<PartitionProgress> out;
    for (const Reading& r : held) {
        const auto before = seen_.find(r.partition);
        Seen s = before != seen_.end() ? before->second : Seen{r.position, now, now};
        if (r.position != s.position) {
            s.position = r.position;
            s.moved = now;
            s.settled = now;
        }
        const bool behind = r.end && *r.end > r.position;
        if (!behind) s.settled = now;
        out.push_back(PartitionProgress{r.partition, r.position, r.end, ms_between(s.moved, now),
                                        behind ? ms_between(s.settled, now) : 0});
        kept[r.partition] = s;
    }
    seen_ = std::move(kept);
    return out;
}

std::vector<PartitionPicture> picture_partitions(const PictureInput& in) {
    std::map<std::string, std::int64_t> stored;
    for (const BusPosition& p : in.positions) stored[p.partition] = p.offset;
    std::set<std::string> names;
    for (const auto& [name, offset] : stored) names.insert(name);
    for (const ReportedProcess& p : in.processes) {
        for (const PartitionProgress& g : p.progress) names.insert(g.partition);
        for (const BusPosition& e : p.published_ends) names.insert(e.partition);
    }

    const bool any_live_projector = std::any_of(
        in.processes.begin(), in.processes.end(),
        [&in](const ReportedProcess& p) { return p.projector && p.age_ms <= in.stale_after_ms; });
    std::vector<PartitionPicture> out;
    for (const std::string& name : names) {
        std::vector<const ReportedProcess*> holders;
        std::optional<std::int64_t> any_end;  // the furthest end anyone reported
        const auto saw_end = [&any_end](std::int64_t end) {
            any_end = std::max(any_end.value_or(end), end);
        };
        for (const ReportedProcess& p : in.processes) {
            for (const PartitionProgress& g : p.progress) {
                if (g.partition != name) continue;
                holders.push_back(&p);
                if (g.end) saw_end(*g.end);
            }
            for (const BusPosition& e : p.published_ends)
                if (e.partition == name) saw_end(e.offset);
        }
        const ReportedProcess* owner = pick_owner(holders, in.stale_after_ms);
        const PartitionProgress* progress = nullptr;
        if (owner) {
            for (const PartitionProgress& g : owner->progress)
                if (g.partition == name) progress = &g;
        }

        PartitionPicture pic;
        pic.partition = name;
        // The store's, or the owner's own when ahead (a Kafka consumer goes on from its own
        // position after a rebuild emptied the stored ones).
        const auto at = stored.find(name);
        pic.position =
            std::max(at != stored.end() ? at->second : 0, progress ? progress->position : 0);
        pic.bus_end = name == "local" && in.local_end ? in.local_end : any_end;
        // An end read before the position moved past it is old: the end is at least as far.
        if (pic.bus_end) pic.bus_end = std::max(*pic.bus_end, pic.position);
        if (pic.bus_end) pic.behind = std::max<std::int64_t>(*pic.bus_end - pic.position, 0);
        const bool behind = pic.behind && *pic.behind > 0;
        if (owner) {
            pic.owner = owner->id;
            pic.owner_state = state_of(*owner, in.stale_after_ms);
            pic.moved_ago_ms = progress->moved_ago_ms + owner->age_ms;
            const std::int64_t waiting =
                progress->waiting_ms > 0 ? progress->waiting_ms + owner->age_ms : 0;
            if (owner->age_ms > in.stale_after_ms) {
                pic.stalled = true;
                pic.stalled_reason = "its projector " + owner->id + " has not heartbeated for " +
                                     std::to_string(owner->age_ms) + " ms";
            } else if (behind && waiting > in.stall_after_ms) {
                pic.stalled = true;
                pic.stalled_reason = "the position has not moved for " + std::to_string(waiting) +
                                     " ms while " + std::to_string(*pic.behind) +
                                     " message(s) wait";
            }
        } else if (behind && !any_live_projector) {
            pic.stalled = true;
            pic.stalled_reason = "no live projector holds it while " + std::to_string(*pic.behind) +
                                 " message(s) wait";
        }
        out.push_back(std::move(pic));
    }
    return out;
}

std::optional<std::int64_t> total_behind(const std::vector<PartitionPicture>& partitions) {
    std::optional<std::int64_t> total;
    for (const PartitionPicture& p : partitions)
        if (p.behind) total = total.value_or(0) + *p.behind;
    return total;
}

std::vector<OutboxPartitionPicture> picture_outbox_partitions(const PictureInput& in,
                                                              std::int64_t partitions) {
    std::vector<OutboxPartitionPicture> out;
    for (std::int64_t partition = 0; partition < partitions; ++partition) {
        std::vector<const ReportedProcess*> relays;
        for (const ReportedProcess& p : in.processes) {
            const auto& owned = p.outbox_partitions;
            if (std::find(owned.begin(), owned.end(), partition) != owned.end())
                relays.push_back(&p);
        }
        OutboxPartitionPicture pic;
        pic.partition = partition;
        if (const ReportedProcess* owner = pick_owner(relays, in.stale_after_ms)) {
            pic.owner = owner->id;
            pic.owner_state = state_of(*owner, in.stale_after_ms);
            pic.stalled = owner->age_ms > in.stale_after_ms;
        }
        out.push_back(std::move(pic));
    }
    return out;
}

}  // namespace ordinal
