// RunningService (running_service.h): its HTTP server, and what /readyz and the admin status
// answer (each component by the roles that need it, bounded by the watched probes).
#include <spdlog/spdlog.h>

#include "app/console_dir.h"
#include "app/process_log.h"
#include "app/running_service.h"

namespace ordinal {

Expected<void, std::string> RunningService::start_http(const Settings& s, bool api_role) {
    auto listen = parse_listen(s.listen);
    if (!listen) return unexpected(listen.error());
    ServiceApi api;
    if (api_role) {
        api.commands = commands_.get();
        api.reads = read_.get();
        api.command_log = process_log_sink(LogLevel::Info);
    }
    api.gate = gate_.get();
    api.metrics = &metrics_;
    api.admin_token = s.admin_token;
    api.readiness = [this] { return bounded_readiness(); };
    api.status = [this] { return bounded_status(); };
    api.admin = desk_.get();
    if (write_) {
        api.stream_log = [this](const StreamKey& stream, std::size_t limit) {
            return write_->stream_log(stream, limit);
        };
    }
    api.console_dir = find_console_dir();
    if (!api.console_dir.empty()) spdlog::info("console files from {}", api.console_dir);
    HttpServerOptions opts;
    opts.store_failure_log = [](const std::string& line) { spdlog::warn("{}", line); };
    opts.host = listen->first;
    opts.port = listen->second;
    opts.threads = s.http_threads;
    opts.max_connections = s.max_connections;
    opts.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
    opts.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
    auto server = start_http_server(opts, std::move(api));
    if (!server) return unexpected("cannot listen on " + s.listen + ": " + server.error());
    http_ = std::move(*server);
    spdlog::info("listening on {}:{}", listen->first, http_->port());
    return {};
}

std::vector<ComponentHealth> RunningService::bounded_readiness() {
    if (auto answer = readiness_probe_->get()) return std::move(*answer);
    return {stalled_stores(*readiness_probe_)};
}

StatusReport RunningService::bounded_status() {
    if (auto answer = status_probe_->get()) return std::move(*answer);
    StatusReport r;
    r.version = ORDINAL_VERSION;
    r.roles = settings_.roles;
    r.components = {stalled_stores(*status_probe_)};
    r.relay_published_seq = relay_ ? relay_->published_seq() : 0;
    r.gate_waiting = gate_ ? gate_->waiting() : 0;
    r.process_id = process_id_;
    r.process_stale_ms = settings_.process_stale_ms;
    return r;
}

std::vector<ComponentHealth> RunningService::readiness() {
    const auto& s = settings_;
    auto roles_of = [&s](std::initializer_list<const char*> needing) {
        std::vector<std::string> out;
        for (const char* r : needing) {
            if (has_role(s, r)) out.emplace_back(r);
        }
        return out;
    };
    std::vector<ComponentHealth> out;
    auto add = [&out](const char* name, const Expected<void, StoreError>& r,
                      std::vector<std::string> roles, std::string ok_detail = "ok") {
        out.push_back(ComponentHealth{name, r.has_value(),
                                      r.has_value() ? std::move(ok_detail) : "unreachable",
                                      std::move(roles)});
    };
    add("write_store", write_->check_ready(), roles_of({"api", "relay"}));
    add("read_store", read_->check_ready(), roles_of({"api", "projector"}));
    bool bus_ok = bus_->check_ready().has_value();
    std::string bus_detail = bus_ok ? "ok" : "unreachable";
    if (kafka_ && has_role(s, "projector")) {
        // Until the group assigns it partitions and it has sought to the stored positions, a
        // projector applies nothing: a token read that needs it would wait in vain.
        const bool assigned = kafka_->holds_assignment();
        bus_detail = "kafka; this projector holds " +
                     std::to_string(kafka_->assigned_partitions().size()) + " partition(s)" +
                     (!bus_ok     ? ", kafka unreachable"
                      : !assigned ? ", waiting for its group assignment"
                                  : "");
        bus_ok = bus_ok && assigned;
    }
    out.push_back(
        ComponentHealth{"bus", bus_ok, std::move(bus_detail), roles_of({"relay", "projector"})});
    if (has_role(s, "projector")) {
        // Parked streams do not stop the others, so the projector stays ready; degraded says
        // an operator must look (GET /v1/admin/dead-letters, then retry).
        const auto dead = read_->dead_letter_count();
        ComponentHealth c{"projection", true, "ok", roles_of({"projector"})};
        if (dead && *dead > 0) {
            c.degraded = true;
            c.detail = std::to_string(*dead) +
                       " dead letter(s) park their streams; later events of those streams "
                       "wait until retried (GET /v1/admin/dead-letters)";
        }
        if (auto stalled = own_stalls(); !stalled.empty()) {
            c.detail = c.degraded ? c.detail + "; " + stalled : stalled;
            c.degraded = true;
        }
        out.push_back(std::move(c));
    }
    if (has_role(s, "api") || has_role(s, "projector")) {
        // An unfinished rebuild: reads would miss rows as if healthy. Still served (token
        // reads wait for what they need), but announced until a rebuild completes.
        ComponentHealth c{"read_model", true, "ok", roles_of({"api", "projector"})};
        if (auto started = read_->rebuild_started(); started && *started) {
            c.degraded = true;
            c.detail = "a rebuild started at " + **started +
                       " has not finished: reads may miss rows until it does";
        }
        out.push_back(std::move(c));
    }
    if (outbox_ && (has_role(s, "api") || has_role(s, "relay"))) {
        ComponentHealth c{"outbox", true, "ok", roles_of({"api", "relay"})};
        if (outbox_->stalled()) {
            c.degraded = true;
            c.detail = "stalled: the oldest unpublished event is " +
                       std::to_string(outbox_->oldest_pending_age_ms() / 1000) +
                       " s old; check the relay and the bus";
        }
        out.push_back(std::move(c));
    }
    // Redis is an optimisation: when it is down, commands go to the database; still ready.
    const bool cache_up = !redis_ || redis_->reachable();
    out.push_back(ComponentHealth{
        "idempotency_cache", true,
        cache_up ? "ok" : "redis unreachable, commands go to the database", roles_of({"api"})});
    return out;
}

StatusReport RunningService::status() {
    StatusReport r;
    r.version = ORDINAL_VERSION;
    r.roles = settings_.roles;
    r.components = readiness();
    if (!write_) return r;
    if (auto o = write_->outbox_stats()) {
        r.outbox = *o;
        r.outbox_known = true;
    }
    if (auto p = read_->stats()) {
        r.projection = *p;
        r.projection_known = true;
    }
    r.relay_published_seq = relay_ ? relay_->published_seq() : 0;
    r.gate_waiting = gate_ ? gate_->waiting() : 0;
    r.process_id = process_id_;
    r.process_stale_ms = settings_.process_stale_ms;
    if (auto procs = read_->list_processes()) {
        r.processes = std::move(*procs);
        r.processes_known = true;
    }
    if (r.projection_known && r.processes_known) {
        const auto in = picture_input(
            r.projection.positions, r.processes,
            r.outbox_known ? std::optional(r.outbox.last_seq) : std::nullopt, picture_settings());
        r.partitions = picture_partitions(in);
        r.behind = total_behind(r.partitions);
        r.outbox_partitions = picture_outbox_partitions(in, write_->outbox_share().partitions);
    }
    return r;
}

}  // namespace ordinal
