#pragma once
// An admin desk and a worker beside it over one (fake) read store, wired as a projector process
// wires them (app/service_registry.cpp), for tests and fuzz targets that drive the admin endpoints.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "codec/response_json.h"
#include "codec/verify_report_json.h"
#include "core/admin_requests.h"

namespace ordinal::test_support {

class LocalAdmin {
  public:
    // `rebuild` empty: no projector runs, and requests stay queued.
    LocalAdmin(ReadStore& store, MetricsRegistry& metrics,
               std::function<Expected<RebuildReport, StoreError>()> rebuild)
        : desk_(store, "test-process") {
        if (!rebuild) return;
        std::map<std::string, AdminWorker::Handler> handlers;
        handlers[kRebuildRequest] = [rebuild](const AdminRequest&, const AdminWorker::Progress&) {
            auto r = rebuild();
            if (!r) return AdminOutcome{false, {}, "unavailable", "a store is unavailable"};
            return AdminOutcome{true, write_rebuild_json(*r), {}, {}};
        };
        handlers[kRetryRequest] = [&store](const AdminRequest& req, const AdminWorker::Progress&) {
            auto r = store.retry_dead_letters(req.target);
            if (!r) return AdminOutcome{false, {}, "unavailable", "a store is unavailable"};
            if (req.target && r->retried == 0)
                return AdminOutcome{false, {}, "not_found", "no such dead letter"};
            return AdminOutcome{true, write_dead_letter_retry_json(*r), {}, {}};
        };
        handlers[kDiscardRequest] = [&store](const AdminRequest& req,
                                             const AdminWorker::Progress&) {
            auto r = req.target ? store.discard_dead_letter(*req.target, req.reason)
                                : Expected<bool, StoreError>(false);
            if (!r) return AdminOutcome{false, {}, "unavailable", "a store is unavailable"};
            if (!*r) return AdminOutcome{false, {}, "not_found", "no such dead letter"};
            return AdminOutcome{true, write_discard_json(*req.target, req.reason), {}, {}};
        };
        // No stores to audit here: an empty, clean report.
        handlers[kVerifyRequest] = [](const AdminRequest&, const AdminWorker::Progress&) {
            return AdminOutcome{true, write_verify_report_json(VerifyReport{}), {}, {}};
        };
        worker_ = std::make_unique<AdminWorker>(store, "test-process", std::move(handlers), metrics,
                                                std::chrono::milliseconds(10),
                                                std::chrono::milliseconds(5000));
        desk_.set_local_worker(worker_.get());
    }

    AdminDesk& desk() { return desk_; }

  private:
    AdminDesk desk_;
    std::unique_ptr<AdminWorker> worker_;
};

}  // namespace ordinal::test_support
