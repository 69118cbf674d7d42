#pragma once
// The one Service this build runs (service.h), declared here so that its parts live in files named
// after what they wire: service.cpp builds and stops it (settings, stores, then each role's
// services in start order), service_http.cpp its HTTP server and what /readyz and the admin
// status answer, service_registry.cpp the process registry, the admin worker and the rebuild.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/http/http_server.h"
#include "adapters/kafka/kafka_bus.h"
#include "adapters/postgres/postgres_stores.h"
#include "adapters/redis/redis_idempotency_cache.h"
#include "app/deployment_picture.h"
#include "app/service.h"
#include "app/settings.h"
#include "app/watched_probe.h"
#include "core/admin_requests.h"
#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "core/outbox_monitor.h"
#include "core/pausable_consumer.h"
#include "core/periodic_task.h"
#include "core/projection_picture.h"
#include "core/projection_watch.h"
#include "core/projector.h"
#include "core/relay.h"
#include "core/system_clock.h"
#include "ports/metrics.h"
#include "ports/service_api.h"

#ifndef ORDINAL_VERSION
#define ORDINAL_VERSION "dev"
#endif

namespace ordinal {

// How long /readyz, /metrics and the admin status wait for the stores before answering without
// them: within a load balancer's or Prometheus's own timeout, well past a healthy check's time.
inline constexpr std::chrono::milliseconds kStoreCheckBound{3000};

class RunningService final : public Service {
  public:
    ~RunningService() override { stop(); }

    std::uint16_t port() const override { return http_ ? http_->port() : 0; }

    void stop() override;

    Expected<void, std::string> build(const Settings& s);

  private:
    // service.cpp: the relay role, started last (a rebuild left unfinished goes first).
    void start_relay(const Settings& s);

    // service_http.cpp
    Expected<void, std::string> start_http(const Settings& s, bool api_role);
    // Readiness as the stores answer within the bound; else not ready, saying the stores stalled.
    std::vector<ComponentHealth> bounded_readiness();
    // The admin status as the stores answer within the bound; else what this process knows.
    StatusReport bounded_status();
    template <class T>
    ComponentHealth stalled_stores(WatchedProbe<T>& probe) const {
        return ComponentHealth{"stores", false, probe.stall_detail(), settings_.roles};
    }
    // Each component with the roles of this process that need it, so an orchestrator can tell a
    // projector that lost Kafka from an API that lost its database.
    std::vector<ComponentHealth> readiness();
    StatusReport status();

    // service_registry.cpp
    // The process registry (every process) and the admin worker (projector roles), and the
    // deployment-wide gauges every api process exports from the stores.
    void start_deployment_agents(const Settings& s);
    void beat(const std::string& roles);
    PictureSettings picture_settings() const;
    // The deployment's projection per partition into this process's gauges and log.
    void watch_projection();
    // This projector's own partitions that wait with their position unmoved past the bound, as
    // its last heartbeat saw them; empty if none.
    std::string own_stalls();
    static AdminOutcome store_failed(const char* what, const StoreError& e);
    // Replays the whole event log into an emptied read model while the relay is held.
    // Deliveries are held off meanwhile: the relay's where it runs here, the bus consumer's
    // (Kafka) otherwise. `progress` hears of each batch replayed.
    Expected<RebuildReport, StoreError> rebuild(const AdminWorker::Progress& progress = {});

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
    std::unique_ptr<PgNotifyListener> listener_;  // wakes gate_; PostgreSQL read store only
    std::unique_ptr<PgNotifyListener>
        outbox_listener_;  // wakes relay_; PostgreSQL write store only
    std::unique_ptr<CommandService> commands_;
    std::unique_ptr<Projector> projector_;
    std::unique_ptr<PausableConsumer> consumer_;  // projector_, as the bus calls it
    std::string process_id_;
    std::int64_t started_ms_ = 0;
    std::unique_ptr<AdminDesk> desk_;
    std::unique_ptr<AdminWorker> admin_worker_;  // projector roles only
    std::unique_ptr<PeriodicTask> heartbeat_;
    ProgressTracker progress_;  // the heartbeat's thread's
    std::mutex progress_mu_;
    std::vector<PartitionProgress> own_progress_;  // guarded by progress_mu_; the last heartbeat's
    std::chrono::steady_clock::time_point own_progress_at_;  // guarded by progress_mu_
    std::unique_ptr<ProjectionWatch> watch_;                 // api and projector processes
    std::unique_ptr<PeriodicTask> watch_task_;               // runs watch_projection()
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

}  // namespace ordinal
