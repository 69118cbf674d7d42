// RunningService (running_service.h): the process registry and heartbeat, the admin worker and
// its handlers (discard and verify in admin_handlers.h), the deployment-wide gauges and the
// projection's picture per partition, and the rebuild of the read model.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "adapters/memory/local_bus.h"
#include "app/admin_handlers.h"
#include "app/running_service.h"
#include "codec/response_json.h"

namespace ordinal {

void RunningService::start_deployment_agents(const Settings& s) {
    std::string roles;
    for (const auto& r : s.roles) roles += (roles.empty() ? "" : ",") + r;
    metrics_
        .gauge("ordinal_process_info",
               "1, labelled with this process's id, roles and version: join per-process "
               "series on it",
               {{"process", process_id_}, {"roles", roles}, {"version", ORDINAL_VERSION}})
        .set(1);
    // Once before the worker starts: a claim names its owner, and an owner without a
    // heartbeat would be taken for dead.
    beat(roles);
    heartbeat_ = std::make_unique<PeriodicTask>(
        "heartbeat", std::chrono::milliseconds(s.heartbeat_ms), [this, roles] { beat(roles); });
    if (has_role(s, "api") || projector_) {
        watch_ = std::make_unique<ProjectionWatch>(
            metrics_, [](const std::string& line) { spdlog::warn("{}", line); });
        watch_task_ = std::make_unique<PeriodicTask>(
            "lag-watch", std::chrono::milliseconds(s.heartbeat_ms), [this] { watch_projection(); });
    }
    if (has_role(s, "api")) {
        Gauge& live = metrics_.gauge("ordinal_deployment_processes",
                                     "Processes in the read store's registry, by whether "
                                     "their heartbeat is recent",
                                     {{"state", "live"}});
        Gauge& stale = metrics_.gauge("ordinal_deployment_processes",
                                      "Processes in the read store's registry, by whether "
                                      "their heartbeat is recent",
                                      {{"state", "stale"}});
        store_gauges_.push_back([this, &live, &stale] {
            auto procs = read_->list_processes();
            if (!procs) return;
            double n_live = 0, n_stale = 0;
            for (const auto& p : *procs)
                (p.age_ms > settings_.process_stale_ms ? n_stale : n_live) += 1;
            live.set(n_live);
            stale.set(n_stale);
        });
    }
    // The gauges read from the stores, refreshed before a scrape as long as the stores answer
    // within the bound; past it the scrape shows their last values and the stall gauge.
    gauges_probe_ = std::make_unique<WatchedProbe<bool>>(
        "metrics",
        [this] {
            for (const auto& refresh : store_gauges_) refresh();
            return true;
        },
        kStoreCheckBound, metrics_);
    metrics_.on_collect([this] {
        if (gauges_probe_) (void)gauges_probe_->get();
    });
    if (!projector_) return;
    std::map<std::string, AdminWorker::Handler> handlers;
    handlers[kRebuildRequest] = [this](const AdminRequest&, const AdminWorker::Progress& p) {
        auto report = rebuild(p);
        if (!report) return store_failed("rebuild", report.error());
        return AdminOutcome{true, write_rebuild_json(*report), {}, {}};
    };
    handlers[kRetryRequest] = [this](const AdminRequest& r, const AdminWorker::Progress&) {
        auto retry = read_->retry_dead_letters(r.target);
        if (!retry) return store_failed("dead-letter retry", retry.error());
        if (!retry->advanced.empty()) gate_->notify(retry->advanced);
        if (r.target && retry->retried == 0)
            return AdminOutcome{false, {}, "not_found", "no such dead letter"};
        return AdminOutcome{true, write_dead_letter_retry_json(*retry), {}, {}};
    };
    handlers[kDiscardRequest] = [this](const AdminRequest& r, const AdminWorker::Progress&) {
        return discard_dead_letter(*read_, r);
    };
    handlers[kVerifyRequest] = [this](const AdminRequest&, const AdminWorker::Progress&) {
        return verify_stores_now(settings_);
    };
    admin_worker_ = std::make_unique<AdminWorker>(
        *read_, process_id_, std::move(handlers), metrics_, std::chrono::milliseconds(250),
        std::chrono::milliseconds(s.process_stale_ms),
        [](const std::string& line) { spdlog::info("{}", line); });
    desk_->set_local_worker(admin_worker_.get());
    // A projector without a relay beside it does not rebuild at start (see build()); a
    // rebuild left unfinished is handed to whichever projector claims it.
    if (!relay_) {
        auto started = read_->rebuild_started();
        if (started && *started) {
            spdlog::warn("the rebuild started at {} never finished: requesting another", **started);
            (void)desk_->submit(kRebuildRequest, std::nullopt);
        }
    }
}

void RunningService::beat(const std::string& roles) {
    ProcessDetail d;
    if (http_)
        d.listen = settings_.listen.substr(0, settings_.listen.rfind(':') + 1) +
                   std::to_string(http_->port());
    if (projector_) {
        // Its own partitions' positions (what this projector has applied, from the store)
        // against the bus's end, and how long each has waited unmoved. A Kafka consumer goes on
        // from its own position, which is ahead of the stored one after a rebuild emptied the
        // stored positions. The stored positions first: an end read after them is as far.
        auto stored = read_->bus_positions();
        std::vector<std::string> partitions{"local"};
        std::map<std::string, HeldPartition> consumed;
        if (kafka_) {
            partitions = *(d.assignment = kafka_->assigned_partitions());
            consumed = kafka_->held_partitions();
        } else {
            consumed["local"] = HeldPartition{0, outbox_->last_seq()};
        }
        if (stored) {
            std::vector<ProgressTracker::Reading> held;
            for (const auto& p : partitions) {
                ProgressTracker::Reading r{p, 0, std::nullopt};
                for (const BusPosition& b : *stored)
                    if (b.partition == p) r.position = b.offset;
                if (const auto c = consumed.find(p); c != consumed.end()) {
                    r.position = std::max(r.position, c->second.applied);
                    r.end = c->second.end;
                }
                held.push_back(std::move(r));
            }
            const auto now = std::chrono::steady_clock::now();
            d.positions = progress_.observe(held, now);
            std::lock_guard lock(progress_mu_);
            own_progress_ = d.positions;
            own_progress_at_ = now;
        }
    }
    if (relay_) d.outbox_partitions = write_->outbox_share().owned;
    if (relay_ && kafka_) {
        for (const auto& [partition, end] : kafka_->published_ends())
            d.published_ends.push_back(BusPosition{partition, end});
    }
    d.relay_published_seq = relay_ ? relay_->published_seq() : 0;
    ProcessRecord self{
        process_id_, roles, ORDINAL_VERSION, started_ms_, 0, 0, write_process_detail_json(d)};
    if (auto ok = read_->heartbeat(self); !ok)
        spdlog::warn("heartbeat not recorded: {}", ok.error().message);
}

PictureSettings RunningService::picture_settings() const {
    return PictureSettings{kafka_ != nullptr, settings_.process_stale_ms,
                           settings_.projection_stall_ms};
}

void RunningService::watch_projection() {
    auto positions = read_->bus_positions();
    auto procs = read_->list_processes();
    if (!positions || !procs) return;  // the store being away is reported elsewhere
    const std::optional<std::int64_t> end = outbox_ ? outbox_->last_seq() : std::nullopt;
    watch_->observe(
        picture_partitions(picture_input(std::move(*positions), *procs, end, picture_settings())));
}

std::string RunningService::own_stalls() {
    std::lock_guard lock(progress_mu_);
    // As the others see it: what the heartbeat reported, plus its age.
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - own_progress_at_)
                           .count();
    std::string out;
    for (const PartitionProgress& p : own_progress_) {
        const std::int64_t waiting = p.waiting_ms > 0 ? p.waiting_ms + since : 0;
        if (waiting <= settings_.projection_stall_ms) continue;
        out += std::string(out.empty() ? "stalled: " : ", ") + p.partition + " has not moved for " +
               std::to_string(waiting) + " ms while " +
               std::to_string(p.end.value_or(p.position) - p.position) + " message(s) wait";
    }
    return out;
}

AdminOutcome RunningService::store_failed(const char* what, const StoreError& e) {
    spdlog::warn("{} failed: {}", what, e.message);
    return AdminOutcome{
        false, {}, "unavailable", std::string(what) + " failed: a store is unavailable; try again"};
}

Expected<RebuildReport, StoreError> RunningService::rebuild(const AdminWorker::Progress& progress) {
    std::lock_guard lock(rebuild_mu_);
    const auto started = std::chrono::steady_clock::now();
    if (relay_) relay_->pause();
    struct Resume {
        Relay* r;
        ~Resume() {
            if (r) r->resume();
        }
    } resume{relay_.get()};
    auto held = consumer_->pause();
    if (auto ok = read_->reset(); !ok) return unexpected(ok.error());
    RebuildReport report;
    std::int64_t after = 0;
    while (true) {
        auto batch = write_->read_log(after, 1000);
        if (!batch) return unexpected(batch.error());
        if (batch->empty()) break;
        after = batch->back().seq;
        // As the in-process bus delivers: an event this build cannot read parks its stream.
        std::vector<std::int64_t> offsets;
        Delivery delivery = local_delivery(*batch, offsets);
        // But a gap is skipped, not refused. Reading by `seq > after` while writers commit
        // (PostgreSQL hands out seq before COMMIT), version n of a stream may become visible
        // only after the cursor passed its seq; n and every later version of that stream
        // then committed after this rebuild began, while the relay was paused, so they are
        // still unpublished and the relay delivers them, in order, once it resumes.
        delivery.in_order = false;
        if (auto ok = projector_->consume_delivery(delivery, offsets); !ok)
            return unexpected(ok.error());
        report.events_replayed += static_cast<std::int64_t>(batch->size());
        if (progress)
            progress("{\"eventsReplayed\":" + std::to_string(report.events_replayed) + "}");
    }
    if (auto ok = read_->finish_rebuild(); !ok) return unexpected(ok.error());
    report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    spdlog::info("projection rebuilt: {} events in {} ms", report.events_replayed,
                 report.duration_ms);
    return report;
}

}  // namespace ordinal
