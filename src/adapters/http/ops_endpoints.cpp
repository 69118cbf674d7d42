// GET /readyz, /metrics, /openapi.json, /v1/admin/status; POST /v1/admin/projections/rebuild.
// (GET /healthz answers inline in request_handler.cpp: it only says the process is alive.)
#include "adapters/http/error_mapping.h"
#include "adapters/http/request_handler.h"
#include "codec/response_json.h"

namespace ordinal {

void RequestHandler::handle_readyz(const Respond& respond) {
    blocking(respond, [this] {
        std::vector<ComponentHealth> components;
        if (api_.readiness) components = api_.readiness();
        bool ready = true;
        for (const auto& c : components) ready = ready && c.ok;
        return json_answer(ready ? 200 : 503, write_readiness_json(ready, components));
    });
}

void RequestHandler::handle_metrics(const Respond& respond) {
    // Rendering runs collection hooks that may query the stores: off the I/O threads.
    blocking(respond, [this] {
        HttpAnswer a;
        a.content_type = "text/plain; version=0.0.4; charset=utf-8";
        if (api_.metrics) a.body = api_.metrics->render_prometheus();
        return a;
    });
}

void RequestHandler::handle_openapi(const Respond& respond) {
    if (openapi_document_.empty()) return respond(not_found("this build has no OpenAPI document"));
    respond(json_answer(200, std::string(openapi_document_)));
}

void RequestHandler::handle_admin_status(const Respond& respond) {
    blocking(respond, [this] {
        StatusReport report;
        if (api_.status) report = api_.status();
        return json_answer(200, write_status_json(report));
    });
}

void RequestHandler::handle_rebuild(const Respond& respond) {
    if (!api_.rebuild) {
        return respond(
            error_answer(409, "rebuild_unavailable",
                         "the projector does not run in this process; rebuild where it runs"));
    }
    if (rebuild_running_.exchange(true)) {
        return respond(
            error_answer(409, "rebuild_in_progress", "a projection rebuild is already running"));
    }
    // One rebuild at a time; it holds a blocking thread for its whole duration.
    blocking(respond, [this] {
        struct Release {
            std::atomic<bool>& flag;
            ~Release() { flag.store(false); }
        } release{rebuild_running_};
        auto report = api_.rebuild();
        if (!report) return store_unavailable(report.error());
        return json_answer(200, write_rebuild_json(*report));
    });
}

}  // namespace ordinal
