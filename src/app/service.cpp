// The composition root (service.h): Service::start and `ordinal migrate`, and RunningService's
// build (the settings checked, the adapters opened, then each role's services wired in start
// order: the gate and the api's command service, the projector, the outbox monitor, the relay,
// the HTTP server and the registry) and its stop, in the reverse order.
#include "app/service.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "app/open_adapters.h"
#include "app/process_log.h"
#include "app/running_service.h"
#include "codec/event_json.h"

namespace ordinal {

void RunningService::stop() {
    if (stopped_) return;
    stopped_ = true;
    // Front to back: no new requests, no new relay rounds, then let the writer drain (its
    // commit listener may still wake the stopped relay, which is harmless).
    if (http_) http_->stop();
    // Their runs under way (a stalled store's) finish before the stores go.
    readiness_probe_.reset();
    status_probe_.reset();
    gauges_probe_.reset();
    // A request under way finishes first (a rebuild holds the relay and the consumer).
    admin_worker_.reset();
    heartbeat_.reset();
    watch_task_.reset();
    outbox_listener_.reset();  // before the relay it wakes
    if (relay_) relay_->stop();
    outbox_.reset();  // its poller reads the write store
    // The Kafka consumer's thread calls the projector, the read store and the gate: it goes
    // first.
    kafka_ = nullptr;
    bus_.reset();
    write_.reset();
    listener_.reset();  // before the gate it wakes
    gate_.reset();
    spdlog::info("ordinal stopped");
}

Expected<void, std::string> RunningService::build(const Settings& s) {
    settings_ = s;
    auto checked = check_settings(s);
    if (!checked) return unexpected(checked.error());
    const bool api = checked->api, relay = checked->relay, projector = checked->projector;

    auto write = open_write_store(s, clock_, ids_);
    if (!write) return unexpected(write.error());
    write_ = std::move(*write);
    auto read = open_read_store(s, clock_);
    if (!read) return unexpected(read.error());
    read_ = std::move(*read);
    process_id_ = ids_.new_uuid_v7();
    started_ms_ = clock_.unix_ms();
    desk_ = std::make_unique<AdminDesk>(*read_, process_id_);
    auto cache = open_cache(s, checked->cache, metrics_);
    if (!cache) return unexpected(cache.error());
    cache_ = std::move(cache->cache);
    redis_ = cache->redis;
    auto bus = open_bus(s, *checked, metrics_);
    if (!bus) return unexpected(bus.error());
    bus_ = std::move(bus->bus);
    kafka_ = bus->kafka;

    // A projector here notifies the gate of what it projects. On PostgreSQL the gate also
    // LISTENs for other processes' projector commits (a slow poll as the fallback), even with a
    // projector here: other processes' projectors may own some streams (two processes with every
    // role split the relay's outbox partitions, or Kafka's, between them), and a token read waiting
    // for one of those would otherwise sit until its deadline. Projector elsewhere, on SQLite: a
    // short bounded poll.
    auto read_url = store_url(s.read_db, s, "read.db");
    const bool listen = read_url && read_url->scheme == "postgresql";
    std::chrono::milliseconds poll(0);
    if (listen) {
        poll = std::chrono::milliseconds(s.gate_fallback_poll_ms);
    } else if (!projector) {
        poll = std::chrono::milliseconds(s.gate_poll_ms);
    }
    gate_ = std::make_unique<ConsistencyGate>(*read_, poll);
    gate_->observe_waits(metrics_.histogram(
        "ordinal_consistency_wait_seconds",
        "Time a query carrying a consistency token waited for the read model (reached only)", {},
        lag_buckets()));
    if (listen && api) {
        // The listener's thread reads the waited-on streams itself: no hand-over to the
        // gate's timer thread (one wake-up less between a projection commit and the reads
        // it lets through).
        listener_ = start_postgres_listener(read_url->target, PgChannel::Projection,
                                            [this] { gate_->poll(); });
    }
    commands_ = std::make_unique<CommandService>(*write_, *cache_, metrics_, ids_,
                                                 CommandServiceOptions{s.max_outbox_pending});
    if (projector) {
        projector_ = std::make_unique<Projector>(
            *read_, gate_.get(), metrics_, encode_event_envelope,
            [](const std::string& line) { spdlog::warn("{}", line); },
            process_log_sink(LogLevel::Info));
        consumer_ = std::make_unique<PausableConsumer>(*projector_);
        bus_->subscribe(consumer_.get());
    }
    outbox_ = std::make_unique<OutboxMonitor>(
        metrics_, [this](std::int64_t pending) { commands_->set_outbox_pending(pending); },
        std::chrono::milliseconds(s.outbox_stall_ms),
        [](const std::string& line) { spdlog::warn("{}", line); });
    if (projector || api) {
        // A parked stream is a stall of its own: its later events wait for an operator. Every
        // api process exports it from the read store, so one scrape target shows it.
        Gauge& dead = metrics_.gauge("ordinal_projection_dead_letters",
                                     "Dead letters in the read store now: each parks its "
                                     "stream until retried");
        store_gauges_.push_back([this, &dead] {
            if (auto n = read_->dead_letter_count()) dead.set(static_cast<double>(*n));
        });
    }
    // Polled whatever else runs here: a relay reports only the rounds that succeed, and the
    // depth must keep moving (gauges, shedding at --max-outbox-pending) while it fails.
    if (api || relay) outbox_->start_polling(*write_, std::chrono::milliseconds(250));
    if (relay) start_relay(s);
    // Every process serves /healthz, /readyz, /metrics and the admin status; only the api role
    // serves commands and queries. A relay or projector that cannot bind its port still runs.
    // The checks behind them wait for the stores a bounded time: a stalled store shows.
    // The registry's projection watch (start_deployment_agents) takes its first look only after
    // HTTP is up; its families are declared before, so every scrape has what alerts name.
    if (api || projector) ProjectionWatch::describe(metrics_);
    readiness_probe_ = std::make_unique<WatchedProbe<std::vector<ComponentHealth>>>(
        "readiness", [this] { return readiness(); }, kStoreCheckBound, metrics_);
    status_probe_ = std::make_unique<WatchedProbe<StatusReport>>(
        "status", [this] { return status(); }, kStoreCheckBound, metrics_);
    if (auto started = start_http(s, api); !started) {
        if (api) return started;
        spdlog::warn("{}; operations endpoints are off in this process", started.error());
    }
    start_deployment_agents(s);
    spdlog::info("ordinal {} serving roles [{}] write={} read={} bus={} cache={}", ORDINAL_VERSION,
                 fmt::join(s.roles, ","),
                 s.write_db.empty() ? default_sqlite(s, "write.db") : "(configured)",
                 s.read_db.empty() ? default_sqlite(s, "read.db") : "(configured)", s.bus, s.cache);
    return {};
}

void RunningService::start_relay(const Settings& s) {
    RelayOptions relay_options;
    relay_options.idle_poll = std::chrono::milliseconds(s.relay_idle_poll_ms);
    relay_options.linger = std::chrono::milliseconds(s.relay_linger_ms);
    relay_options.max_in_flight = static_cast<std::size_t>(s.relay_in_flight);
    relay_ = std::make_unique<Relay>(*write_, *bus_, metrics_, relay_options);
    write_->set_commit_listener([this] { relay_->wake(); });
    // Commands may be taken by api processes elsewhere: on PostgreSQL their commits
    // wake this relay through NOTIFY instead of its idle poll.
    auto write_url = store_url(s.write_db, s, "write.db");
    if (write_url && write_url->scheme == "postgresql") {
        outbox_listener_ = start_postgres_listener(write_url->target, PgChannel::Outbox,
                                                   [this] { relay_->wake(); });
    }
    // A rebuild that was cut short (this process killed mid-way) left the read model
    // incomplete and marked: finish it before relaying anything new.
    if (projector_) {
        auto started = read_->rebuild_started();
        if (started && *started) {
            spdlog::warn("the rebuild started at {} never finished: rebuilding again", **started);
            if (auto done = rebuild(); !done) {
                spdlog::error("rebuild failed: {}; the read model stays marked incomplete",
                              done.error().message);
            }
        }
    }
    relay_->start();
}

Expected<std::unique_ptr<Service>, std::string> Service::start(const Settings& settings) {
    if (auto ok = configure_process_log(settings.log_format, settings.log_level); !ok)
        return unexpected(ok.error());
    auto svc = std::make_unique<RunningService>();
    if (auto ok = svc->build(settings); !ok) return unexpected(ok.error());
    return std::unique_ptr<Service>(std::move(svc));
}

}  // namespace ordinal
