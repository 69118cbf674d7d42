#include "core/admin_requests.h"

#include <algorithm>
#include <thread>

namespace ordinal {

Expected<std::pair<AdminRequest, bool>, StoreError> AdminDesk::submit(
    const std::string& kind, std::optional<std::int64_t> target, const std::string& reason) {
    auto submitted = store_.submit_admin_request(kind, target, reason, self_);
    if (submitted && worker_) worker_->wake();
    return submitted;
}

Expected<AdminRequest, StoreError> AdminDesk::wait(const AdminRequest& request,
                                                   std::chrono::milliseconds timeout) {
    // Polled: the owner may be any process. A read by primary key, at first every millisecond
    // (a retry takes a few), backing off to every 20 ms; the wait is bounded by the caller.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    AdminRequest last = request;
    auto pause = std::chrono::milliseconds(1);
    while (!admin_request_finished(last) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
        auto now = store_.get_admin_request(request.id);
        if (!now) return unexpected(now.error());
        if (*now) last = std::move(**now);
    }
    return last;
}

AdminWorker::AdminWorker(ReadStore& store, std::string self_id,
                         std::map<std::string, Handler> handlers, MetricsRegistry& metrics,
                         std::chrono::milliseconds poll, std::chrono::milliseconds stale_after,
                         std::function<void(const std::string&)> log)
    : store_(store),
      self_(std::move(self_id)),
      handlers_(std::move(handlers)),
      metrics_(metrics),
      stale_after_(stale_after),
      log_(std::move(log)),
      task_(std::make_unique<PeriodicTask>("admin-requests", poll, [this] { drain(); })) {}

void AdminWorker::drain() {
    // Bounded: a store that keeps handing out requests still lets the task stop between them.
    for (int i = 0; i < 100; ++i) {
        auto claimed = store_.claim_admin_request(self_, stale_after_.count());
        if (!claimed || !*claimed) return;  // a store failure is tried again at the next poll
        run(std::move(**claimed));
    }
}

void AdminWorker::run(AdminRequest request) {
    if (log_) {
        log_("admin request " + std::to_string(request.id) + " (" + request.kind + ") taken" +
             (request.attempts > 1 ? ", attempt " + std::to_string(request.attempts) +
                                         ": its previous owner stopped heartbeating"
                                   : ""));
    }
    AdminOutcome outcome;
    const auto handler = handlers_.find(request.kind);
    if (handler == handlers_.end()) {
        outcome.error_code = "unsupported";
        outcome.error = "this release cannot carry out a '" + request.kind + "' request";
    } else {
        outcome = handler->second(request, [&](const std::string& progress) {
            request.progress = progress;
            (void)store_.report_admin_progress(request.id, self_, progress);
        });
    }
    request.state = outcome.ok ? "done" : "failed";
    request.result = outcome.result;
    request.error_code = outcome.error_code;
    request.error = outcome.error;
    metrics_
        .counter("ordinal_admin_requests_total",
                 "Admin requests this process carried out, by kind and outcome",
                 {{"kind", request.kind}, {"result", request.state}})
        .inc();
    auto finished = store_.finish_admin_request(request);
    if (!finished) {
        // Still ours and running: the next poll claims it again (ReadStore::claim_admin_request).
        if (log_)
            log_("admin request " + std::to_string(request.id) +
                 ": its outcome could not be recorded (" + finished.error().message +
                 "); it runs again");
    } else if (!*finished && log_) {
        log_("admin request " + std::to_string(request.id) +
             ": another process took it over (this one was taken for dead); its outcome stands");
    }
}

}  // namespace ordinal
