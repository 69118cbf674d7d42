#include "app/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "adapters/http/http_server.h"
#include "adapters/kafka/kafka_bus.h"
#include "adapters/memory/local_bus.h"
#include "adapters/memory/lru_idempotency_cache.h"
#include "adapters/postgres/postgres_stores.h"
#include "adapters/redis/redis_idempotency_cache.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "app/console_dir.h"
#include "app/process_log.h"
#include "app/store_url.h"
#include "app/watched_probe.h"
#include "codec/event_json.h"
#include "codec/response_json.h"
#include "core/admin_requests.h"
#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "core/metrics.h"
#include "core/outbox_monitor.h"
#include "core/pausable_consumer.h"
#include "core/periodic_task.h"
#include "core/projector.h"
#include "core/relay.h"
#include "core/service_api.h"
#include "core/system_clock.h"

#ifndef ORDINAL_VERSION
#define ORDINAL_VERSION "dev"
#endif

namespace ordinal {

bool has_role(const Settings& s, const std::string& role) {
    return std::find(s.roles.begin(), s.roles.end(), role) != s.roles.end();
}

namespace {

// How long /readyz, /metrics and the admin status wait for the stores before answering without
// them: within a load balancer's or Prometheus's own timeout, well past a healthy check's time.
constexpr std::chrono::milliseconds kStoreCheckBound{3000};

std::string default_sqlite(const Settings& s, const char* file) {
    return "sqlite://" + (std::filesystem::path(s.data_dir) / file).string();
}

Expected<StoreUrl, std::string> store_url(const std::string& given, const Settings& s,
                                          const char* file) {
    return parse_store_url(given.empty() ? default_sqlite(s, file) : given);
}

Expected<void, std::string> ensure_parent_dir(const std::string& path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return unexpected("cannot create directory " + parent.string() + ": " + ec.message());
    return {};
}

Expected<std::unique_ptr<WriteStore>, std::string> open_write_store(const Settings& s,
                                                                    const Clock& clock,
                                                                    IdGenerator& ids) {
    auto url = store_url(s.write_db, s, "write.db");
    if (!url) return unexpected(url.error());
    if (url->scheme == "postgresql") {
        PostgresWriteStoreOptions opts;
        opts.conninfo = url->target;
        opts.max_queue = s.writer_queue;
        opts.max_batch = s.writer_batch;
        opts.connections = s.writer_connections;
        opts.outbox_partitions = s.outbox_partitions;
        opts.idempotency_retention = std::chrono::hours(s.idempotency_retention_hours);
        auto store = make_postgres_write_store(opts, clock, ids);
        if (!store) return unexpected("cannot open the write store: " + store.error().message);
        return std::move(*store);
    }
    if (url->scheme != "sqlite")
        return unexpected("write store '" + url->scheme + "' is not supported yet");
    if (auto ok = ensure_parent_dir(url->target); !ok) return unexpected(ok.error());
    SqliteWriteStoreOptions opts;
    opts.path = url->target;
    opts.max_queue = s.writer_queue;
    opts.max_batch = s.writer_batch;
    opts.durable = s.durable;
    opts.idempotency_retention = std::chrono::hours(s.idempotency_retention_hours);
    auto store = make_sqlite_write_store(opts, clock, ids);
    if (!store) return unexpected("cannot open the write store: " + store.error().message);
    return std::move(*store);
}

Expected<std::unique_ptr<ReadStore>, std::string> open_read_store(const Settings& s) {
    auto url = store_url(s.read_db, s, "read.db");
    if (!url) return unexpected(url.error());
    if (url->scheme == "postgresql") {
        PostgresReadStoreOptions opts;
        opts.conninfo = url->target;
        auto store = make_postgres_read_store(opts);
        if (!store) return unexpected("cannot open the read store: " + store.error().message);
        return std::move(*store);
    }
    if (url->scheme != "sqlite")
        return unexpected("read store '" + url->scheme + "' is not supported yet");
    if (auto ok = ensure_parent_dir(url->target); !ok) return unexpected(ok.error());
    SqliteReadStoreOptions opts;
    opts.path = url->target;
    auto store = make_sqlite_read_store(opts);
    if (!store) return unexpected("cannot open the read store: " + store.error().message);
    return std::move(*store);
}

Expected<std::pair<std::string, std::uint16_t>, std::string> parse_listen(
    const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return unexpected("--listen must be HOST:PORT, got " + listen);
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    int port = -1;
    try {
        std::size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) port = -1;
    } catch (...) {
        port = -1;
    }
    if (port < 0 || port > 65535) return unexpected("--listen has an invalid port: " + listen);
    return std::pair{host.empty() ? std::string("127.0.0.1") : host,
                     static_cast<std::uint16_t>(port)};
}

class RunningService final : public Service {
  public:
    ~RunningService() override { stop(); }

    std::uint16_t port() const override { return http_ ? http_->port() : 0; }

    void stop() override {
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

    Expected<void, std::string> build(const Settings& s) {
        settings_ = s;
        for (const auto& r : s.roles) {
            if (r != "api" && r != "relay" && r != "projector")
                return unexpected("unknown role '" + r + "'");
        }
        const bool api = has_role(s, "api"), relay = has_role(s, "relay"),
                   projector = has_role(s, "projector");
        if (!api && !relay && !projector) return unexpected(std::string("--roles names no role"));

        auto bus_url = parse_store_url(s.bus);
        if (!bus_url) return unexpected(bus_url.error());
        if (bus_url->scheme != "local" && bus_url->scheme != "kafka") {
            return unexpected("bus '" + bus_url->scheme + "' is not supported (local or kafka://)");
        }
        if (bus_url->scheme == "local" && relay != projector) {
            return unexpected(
                std::string("--bus local delivers in-process: the relay and projector roles must "
                            "run in the same process"));
        }
        auto cache_url = parse_store_url(s.cache);
        if (!cache_url) return unexpected(cache_url.error());
        if (cache_url->scheme != "memory" && cache_url->scheme != "redis") {
            return unexpected("cache '" + cache_url->scheme + "' is not supported yet");
        }

        auto write = open_write_store(s, clock_, ids_);
        if (!write) return unexpected(write.error());
        write_ = std::move(*write);
        auto read = open_read_store(s);
        if (!read) return unexpected(read.error());
        read_ = std::move(*read);
        process_id_ = ids_.new_uuid_v7();
        started_ms_ = clock_.unix_ms();
        desk_ = std::make_unique<AdminDesk>(*read_, process_id_);
        if (cache_url->scheme == "redis") {
            RedisCacheOptions opts;
            opts.url = cache_url->target;
            opts.ttl = std::chrono::seconds(s.cache_ttl_s);
            opts.timeout = std::chrono::milliseconds(s.cache_timeout_ms);
            opts.metrics = &metrics_;
            auto redis = make_redis_idempotency_cache(std::move(opts));
            if (!redis) return unexpected(redis.error());
            redis_ = redis->get();
            cache_ = std::move(*redis);
        } else {
            cache_ = make_lru_idempotency_cache(s.idempotency_cache_entries);
        }
        if (bus_url->scheme == "kafka") {
            KafkaBusOptions opts;
            opts.url = s.bus;
            opts.produce = relay;
            opts.consume = projector;
            opts.metrics = &metrics_;
            opts.log = [](int level, const std::string& line) {
                if (level <= 3) {
                    spdlog::error("kafka {}", line);
                } else if (level == 4) {
                    spdlog::warn("kafka {}", line);
                } else if (level <= 6) {
                    spdlog::info("kafka {}", line);
                } else {
                    spdlog::debug("kafka {}", line);
                }
            };
            auto kafka = make_kafka_bus(std::move(opts));
            if (!kafka) return unexpected(kafka.error());
            kafka_ = kafka->get();
            bus_ = std::move(*kafka);
        } else {
            bus_ = make_local_bus();
        }

        // Projector here: it notifies the gate. Elsewhere, on PostgreSQL: LISTEN for its commits
        // (a slow poll as the fallback). Elsewhere, on SQLite: a short bounded poll.
        auto read_url = store_url(s.read_db, s, "read.db");
        const bool listen = !projector && read_url && read_url->scheme == "postgresql";
        std::chrono::milliseconds poll(0);
        if (!projector)
            poll = std::chrono::milliseconds(listen ? s.gate_fallback_poll_ms : s.gate_poll_ms);
        gate_ = std::make_unique<ConsistencyGate>(*read_, poll);
        gate_->observe_waits(metrics_.histogram(
            "ordinal_consistency_wait_seconds",
            "Time a query carrying a consistency token waited for the read model (reached only)",
            {}, lag_buckets()));
        if (listen && api) {
            // The listener's thread reads the waited-on streams itself: no hand-over to the
            // gate's timer thread (one wake-up less between a projection commit and the reads
            // it lets through).
            listener_ = start_postgres_listener(read_url->target, PgChannel::Projection,
                                                [this] { gate_->poll(); });
        }
        commands_ = std::make_unique<CommandService>(*write_, *cache_, metrics_,
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
        if (relay) {
            RelayOptions relay_options;
            relay_options.idle_poll = std::chrono::milliseconds(s.relay_idle_poll_ms);
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
                    spdlog::warn("the rebuild started at {} never finished: rebuilding again",
                                 **started);
                    if (auto done = rebuild(); !done) {
                        spdlog::error("rebuild failed: {}; the read model stays marked incomplete",
                                      done.error().message);
                    }
                }
            }
            relay_->start();
        }
        // Every process serves /healthz, /readyz, /metrics and the admin status; only the api role
        // serves commands and queries. A relay or projector that cannot bind its port still runs.
        // The checks behind them wait for the stores a bounded time: a stalled store shows.
        readiness_probe_ = std::make_unique<WatchedProbe<std::vector<ComponentHealth>>>(
            "readiness", [this] { return readiness(); }, kStoreCheckBound, metrics_);
        status_probe_ = std::make_unique<WatchedProbe<StatusReport>>(
            "status", [this] { return status(); }, kStoreCheckBound, metrics_);
        if (auto started = start_http(s, api); !started) {
            if (api) return started;
            spdlog::warn("{}; operations endpoints are off in this process", started.error());
        }
        start_deployment_agents(s);
        spdlog::info("ordinal {} serving roles [{}] write={} read={} bus={} cache={}",
                     ORDINAL_VERSION, fmt::join(s.roles, ","),
                     s.write_db.empty() ? default_sqlite(s, "write.db") : "(configured)",
                     s.read_db.empty() ? default_sqlite(s, "read.db") : "(configured)", s.bus,
                     s.cache);
        return {};
    }

  private:
    Expected<void, std::string> start_http(const Settings& s, bool api_role) {
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
        api.ids = &ids_;
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

    // Readiness as the stores answer within the bound; else not ready, saying the stores stalled.
    std::vector<ComponentHealth> bounded_readiness() {
        if (auto answer = readiness_probe_->get()) return std::move(*answer);
        return {stalled_stores(*readiness_probe_)};
    }

    // The admin status as the stores answer within the bound; else what this process knows.
    StatusReport bounded_status() {
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

    template <class T>
    ComponentHealth stalled_stores(WatchedProbe<T>& probe) const {
        return ComponentHealth{"stores", false, probe.stall_detail(), settings_.roles};
    }

    // Each component with the roles of this process that need it, so an orchestrator can tell a
    // projector that lost Kafka from an API that lost its database.
    std::vector<ComponentHealth> readiness() {
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
        out.push_back(ComponentHealth{"bus", bus_ok, std::move(bus_detail),
                                      roles_of({"relay", "projector"})});
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

    StatusReport status() {
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
        return r;
    }

    // The process registry (every process) and the admin worker (projector roles), and the
    // deployment-wide gauges every api process exports from the stores.
    void start_deployment_agents(const Settings& s) {
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
        heartbeat_ = std::make_unique<PeriodicTask>(std::chrono::milliseconds(s.heartbeat_ms),
                                                    [this, roles] { beat(roles); });
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
                spdlog::warn("the rebuild started at {} never finished: requesting another",
                             **started);
                (void)desk_->submit(kRebuildRequest, std::nullopt);
            }
        }
    }

    void beat(const std::string& roles) {
        ProcessDetail d;
        if (http_)
            d.listen = settings_.listen.substr(0, settings_.listen.rfind(':') + 1) +
                       std::to_string(http_->port());
        if (projector_) {
            // Its own partitions' positions: what this projector has applied, from the store.
            std::vector<std::string> partitions{"local"};
            if (kafka_) partitions = *(d.assignment = kafka_->assigned_partitions());
            for (const auto& p : partitions) {
                if (auto at = read_->bus_position(p)) d.positions.push_back(BusPosition{p, *at});
            }
        }
        d.relay_published_seq = relay_ ? relay_->published_seq() : 0;
        ProcessRecord self{
            process_id_, roles, ORDINAL_VERSION, started_ms_, 0, 0, write_process_detail_json(d)};
        if (auto ok = read_->heartbeat(self); !ok)
            spdlog::warn("heartbeat not recorded: {}", ok.error().message);
    }

    static AdminOutcome store_failed(const char* what, const StoreError& e) {
        spdlog::warn("{} failed: {}", what, e.message);
        return AdminOutcome{false,
                            {},
                            "unavailable",
                            std::string(what) + " failed: a store is unavailable; try again"};
    }

    // Replays the whole event log into an emptied read model while the relay is held.
    // Deliveries are held off meanwhile: the relay's where it runs here, the bus consumer's
    // (Kafka) otherwise. `progress` hears of each batch replayed.
    Expected<RebuildReport, StoreError> rebuild(const AdminWorker::Progress& progress = {}) {
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

    Settings settings_;
    SystemClock clock_;
    RandomIdGenerator ids_{clock_};
    MetricsRegistry metrics_;
    std::unique_ptr<WriteStore> write_;
    std::unique_ptr<ReadStore> read_;
    std::unique_ptr<IdempotencyCache> cache_;
    RedisIdempotencyCache* redis_ = nullptr;  // cache_, when it is the Redis one
    std::unique_ptr<Bus> bus_;
    KafkaBus* kafka_ = nullptr;  // bus_, when it is Kafka
    std::unique_ptr<ConsistencyGate> gate_;
    std::unique_ptr<ProjectionListener> listener_;  // wakes gate_; PostgreSQL read store only
    std::unique_ptr<ProjectionListener>
        outbox_listener_;  // wakes relay_; PostgreSQL write store only
    std::unique_ptr<CommandService> commands_;
    std::unique_ptr<Projector> projector_;
    std::unique_ptr<PausableConsumer> consumer_;  // projector_, as the bus calls it
    std::string process_id_;
    std::int64_t started_ms_ = 0;
    std::unique_ptr<AdminDesk> desk_;
    std::unique_ptr<AdminWorker> admin_worker_;  // projector roles only
    std::unique_ptr<PeriodicTask> heartbeat_;
    std::unique_ptr<Relay> relay_;
    std::unique_ptr<OutboxMonitor> outbox_;
    // Gauges whose values come from the stores: refreshed by gauges_probe_ before a scrape.
    std::vector<std::function<void()>> store_gauges_;
    std::unique_ptr<WatchedProbe<std::vector<ComponentHealth>>> readiness_probe_;
    std::unique_ptr<WatchedProbe<StatusReport>> status_probe_;
    std::unique_ptr<WatchedProbe<bool>> gauges_probe_;
    std::unique_ptr<HttpServer> http_;
    std::mutex rebuild_mu_;
    bool stopped_ = false;
};

}  // namespace

Expected<std::unique_ptr<Service>, std::string> Service::start(const Settings& settings) {
    if (auto ok = configure_process_log(settings.log_format, settings.log_level); !ok)
        return unexpected(ok.error());
    auto svc = std::make_unique<RunningService>();
    if (auto ok = svc->build(settings); !ok) return unexpected(ok.error());
    return std::unique_ptr<Service>(std::move(svc));
}

Expected<void, std::string> migrate_stores(const Settings& s) {
    auto w = store_url(s.write_db, s, "write.db");
    if (!w) return unexpected(w.error());
    auto r = store_url(s.read_db, s, "read.db");
    if (!r) return unexpected(r.error());
    for (const auto* u : {&*w, &*r}) {
        if (u->scheme == "postgresql") continue;
        if (u->scheme != "sqlite")
            return unexpected("store '" + u->scheme + "' is not supported yet");
        if (auto ok = ensure_parent_dir(u->target); !ok) return unexpected(ok.error());
    }
    const auto write_ok = w->scheme == "postgresql" ? migrate_postgres_write_store(w->target)
                                                    : migrate_sqlite_write_store(w->target);
    if (!write_ok) return unexpected("write store: " + write_ok.error().message);
    const auto read_ok = r->scheme == "postgresql" ? migrate_postgres_read_store(r->target)
                                                   : migrate_sqlite_read_store(r->target);
    if (!read_ok) return unexpected("read store: " + read_ok.error().message);
    return {};
}

}  // namespace ordinal
