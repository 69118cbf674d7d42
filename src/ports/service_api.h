#pragma once
// What the HTTP adapter (or any other front end) may call: the core services behind the
// interfaces below, which the core implements (CommandService, ConsistencyGate, AdminDesk) and the
// composition root wires. Pointers are null when this process does not run the role behind them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/consistency_token.h"
#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/command_types.h"
#include "ports/deployment_picture.h"
#include "ports/log_record.h"
#include "ports/metrics.h"
#include "ports/read_store.h"
#include "ports/stream_view.h"
#include "ports/write_store.h"

namespace ordinal {

// The command side's front door (core/command_service.h).
class CommandApi {
  public:
    virtual ~CommandApi() = default;
    // Runs a validated command. `done` is called exactly once, possibly on another thread.
    virtual void execute(CommandRequest request, WriteStore::Done done) = 0;
    // Whether execute() may wait on I/O before it returns (the idempotency cache's look-up; the
    // write store's submit only queues). When false, a front end may call it on an I/O thread.
    virtual bool execute_may_block() const = 0;
    // For a request whose fields failed validation: the answer its key already determines (a
    // duplicate Acknowledgement or KeyReused), or nullopt when the key has not been used. A used
    // key's answer beats a 400; this is the one place that decides it.
    virtual Expected<std::optional<CommandOutcome>, StoreError> answer_for_used_key(
        const std::string& key, const std::string& fingerprint) = 0;
};

enum class GateResult { Reached, TimedOut, StoreFailed };

// Holds a query until the read model has reached a version vector (core/consistency_gate.h).
class ConsistencyWait {
  public:
    using Done = std::function<void(GateResult)>;
    virtual ~ConsistencyWait() = default;
    // `done` is called once: Reached, TimedOut after `max_wait`, or StoreFailed; on a thread of
    // the gate's (or the calling thread when `wanted` is empty or the gate is stopping). Never
    // blocks on a store.
    virtual void wait(const VersionVector& wanted, std::chrono::milliseconds max_wait,
                      Done done) = 0;
};

// The kinds of operators' requests (AdminApi::submit).
inline constexpr const char* kRebuildRequest = "rebuild";
inline constexpr const char* kRetryRequest = "retry_dead_letters";
inline constexpr const char* kDiscardRequest = "discard_dead_letter";  // target and reason given
inline constexpr const char* kVerifyRequest = "verify";  // the store verifier, read-only

// Operators' requests, recorded in the read store and carried out by a projector process
// (core/admin_requests.h).
class AdminApi {
  public:
    virtual ~AdminApi() = default;
    // See ReadStore::submit_admin_request; a worker in this process is woken at once.
    virtual Expected<std::pair<AdminRequest, bool>, StoreError> submit(
        const std::string& kind, std::optional<std::int64_t> target,
        const std::string& reason = {}) = 0;
    virtual Expected<std::optional<AdminRequest>, StoreError> get(std::int64_t id) = 0;
    // Reads the request until it is finished or `timeout` has passed; the last state read.
    virtual Expected<AdminRequest, StoreError> wait(const AdminRequest& request,
                                                    std::chrono::milliseconds timeout) = 0;
    // An admin action taken outside a request (a product PUT), in the audit log as this
    // process's.
    virtual Expected<void, StoreError> record(AuditEntry entry) = 0;
    // The read store the requests are recorded in (the dead letters' listing reads it too).
    virtual ReadStore& store() = 0;
};

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
    // The messages waiting over the partitions whose end is known; none if no end is known.
    std::optional<std::int64_t> behind;
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
    CommandApi* commands = nullptr;
    ReadStore* reads = nullptr;
    ConsistencyWait* gate = nullptr;
    MetricsRegistry* metrics = nullptr;
    std::string admin_token;  // empty: admin endpoints are open
    std::function<std::vector<ComponentHealth>()> readiness;
    std::function<StatusReport()> status;
    // Rebuilds and dead-letter retries, recorded in the read store and carried out by a
    // projector process, whichever process took them. Set in every process.
    AdminApi* admin = nullptr;
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
