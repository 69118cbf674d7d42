#pragma once
// What the HTTP adapter (or any other front end) may call: the core services, wired by the
// composition root. Pointers are null when this process does not run the role behind them.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "core/metrics.h"
#include "core/stream_view.h"
#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/read_store.h"
#include "ports/write_store.h"

namespace ordinal {

struct ComponentHealth {
    std::string name;  // "write_store", "read_store", "bus", ...
    bool ok = false;
    std::string detail;  // safe for clients: no SQL, no paths
    std::vector<std::string> roles;  // the roles of this process that need it
    // Still serving (ok), but stalled in part and waiting for an operator: a parked stream, an
    // outbox that is not draining. /readyz stays 200, so traffic keeps flowing to what works,
    // and says "degraded" for alerting.
    bool degraded = false;
};

struct StatusReport {
    std::string version;
    std::vector<std::string> roles;
    std::vector<ComponentHealth> components;
    OutboxStats outbox;
    bool outbox_known = false;
    ProjectionStats projection;
    bool projection_known = false;
    std::int64_t relay_published_seq = 0;
    std::size_t gate_waiting = 0;
};

struct RebuildReport {
    std::int64_t events_replayed = 0;
    std::int64_t duration_ms = 0;
};

struct ServiceApi {
    CommandService* commands = nullptr;
    ReadStore* reads = nullptr;
    ConsistencyGate* gate = nullptr;
    MetricsRegistry* metrics = nullptr;
    IdGenerator* ids = nullptr;
    std::string admin_token;  // empty: admin endpoints are open
    std::function<std::vector<ComponentHealth>()> readiness;
    std::function<StatusReport()> status;
    // Empty when the projector does not run in this process.
    std::function<Expected<RebuildReport, StoreError>()> rebuild;
    // ReadStore::retry_dead_letters, then the gate told of the streams that advanced.
    std::function<Expected<DeadLetterRetry, StoreError>(std::optional<std::int64_t> id)>
        retry_dead_letters;
    // WriteStore::stream_log: the admin stream view (empty: 404 on that view).
    std::function<Expected<std::vector<StreamLogEntry>, StoreError>(const StreamKey&, std::size_t)>
        stream_log;
    // The folder of the console's static files (GET /console/...); empty: no console.
    std::string console_dir;
};

}  // namespace ordinal
