#pragma once
// Operators' requests carried by the read store, so that any process serving HTTP takes them and
// the one process that owns the work (a projector) carries them out:
//   AdminDesk    (every process)    records a request, reads it back, waits for its outcome;
//   AdminWorker  (projector roles)  claims requests one at a time and runs them.
// A claim is atomic in the store, so each request runs once; a request whose owner stopped
// heartbeating (killed mid-way) is claimed again and run from the start, which is safe for both
// kinds: a rebuild starts over from reset(), and a retry applies what is still dead-lettered.
// (A discard run twice finds its work done; a verify only reads.) Every finished request leaves one
// entry in the audit log (ReadStore::finish_admin_request).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/periodic_task.h"
#include "ports/metrics.h"
#include "ports/read_store.h"
#include "ports/service_api.h"

namespace ordinal {

inline bool admin_request_finished(const AdminRequest& r) {
    return r.state == "done" || r.state == "failed";
}

class AdminWorker;

class AdminDesk final : public AdminApi {
  public:
    AdminDesk(ReadStore& store, std::string self_id) : store_(store), self_(std::move(self_id)) {}

    Expected<std::pair<AdminRequest, bool>, StoreError> submit(
        const std::string& kind, std::optional<std::int64_t> target,
        const std::string& reason = {}) override;
    Expected<std::optional<AdminRequest>, StoreError> get(std::int64_t id) override {
        return store_.get_admin_request(id);
    }
    Expected<AdminRequest, StoreError> wait(const AdminRequest& request,
                                            std::chrono::milliseconds timeout) override;

    Expected<void, StoreError> record(AuditEntry entry) override {
        entry.process = self_;
        return store_.record_audit(entry);
    }

    ReadStore& store() override { return store_; }
    void set_local_worker(AdminWorker* worker) { worker_ = worker; }

  private:
    ReadStore& store_;
    std::string self_;
    AdminWorker* worker_ = nullptr;
};

struct AdminOutcome {
    bool ok = false;
    std::string result;      // JSON object when ok
    std::string error_code;  // when not ok: "not_found", "unavailable", ...
    std::string error;
};

class AdminWorker {
  public:
    using Progress = std::function<void(const std::string& progress_json)>;
    using Handler = std::function<AdminOutcome(const AdminRequest&, const Progress&)>;

    // Starts polling at once. `stale_after`: how old an owner's heartbeat must be before its
    // running request is taken over.
    AdminWorker(ReadStore& store, std::string self_id, std::map<std::string, Handler> handlers,
                MetricsRegistry& metrics, std::chrono::milliseconds poll,
                std::chrono::milliseconds stale_after,
                std::function<void(const std::string&)> log = {});

    void wake() { task_->wake(); }

  private:
    void drain();
    void run(AdminRequest request);

    ReadStore& store_;
    std::string self_;
    std::map<std::string, Handler> handlers_;
    MetricsRegistry& metrics_;
    std::chrono::milliseconds stale_after_;
    std::function<void(const std::string&)> log_;
    std::unique_ptr<PeriodicTask> task_;  // last: its thread uses the members above
};

}  // namespace ordinal
