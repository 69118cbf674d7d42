#pragma once
// What the HTTP adapter (or any other front end) may call: the core services, wired by the
// composition root. Pointers are null when this process does not run the role behind them.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/admin_requests.h"
#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "core/metrics.h"
#include "core/projection_picture.h"
#include "core/stream_view.h"
#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/log_record.h"
#include "ports/read_store.h"
#include "ports/write_store.h"

namespace ordinal {

struct ComponentHealth {
    std::string name;  // "write_store", "read_store", "bus", ...
    bool ok = false;
    std::string detail;              // safe for clients: no SQL, no paths
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
    // The deployment as the read store's process registry has it: every process, this one
    // included; one whose heartbeat is older than process_stale_ms is stale.
    std::string process_id;
    std::vector<ProcessRecord> processes;
    bool processes_known = false;
    std::int64_t process_stale_ms = 0;
    // Drawn from the stores and the heartbeats (core/projection_picture.h): each bus partition's
    // projection against the bus's end, and who publishes each outbox partition.
    std::vector<PartitionPicture> partitions;
    std::vector<OutboxPartitionPicture> outbox_partitions;
};

// What a process reports of its work in its heartbeat (ProcessRecord::detail).
struct ProcessDetail {
    std::string listen;  // host:port of its HTTP server; empty if none
    std::optional<std::vector<std::string>> assignment;  // a Kafka projector's partitions
    std::int64_t relay_published_seq = 0;                // a relay's last published outbox seq
    // A projector: per partition it holds, the stored position, the bus's end, and for how long
    // the position has not moved.
    std::vector<PartitionProgress> positions;
    // A relay: the outbox partitions it publishes now (PostgreSQL: those its lease holds).
    std::optional<std::vector<std::int64_t>> outbox_partitions;
    // A relay on Kafka: each partition's end as its delivery reports tell (offset: the end).
    std::vector<BusPosition> published_ends;
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
    // Rebuilds and dead-letter retries, recorded in the read store and carried out by a
    // projector process, whichever process took them. Set in every process.
    AdminDesk* admin = nullptr;
    // WriteStore::stream_log: the admin stream view (empty: 404 on that view).
    std::function<Expected<std::vector<StreamLogEntry>, StoreError>(const StreamKey&, std::size_t)>
        stream_log;
    // The folder of the console's static files (GET /console/...); empty: no console.
    std::string console_dir;
    // One line per command answered (its name, status, outcome, stream and trace id); empty:
    // none.
    LogSink command_log;
};

}  // namespace ordinal
