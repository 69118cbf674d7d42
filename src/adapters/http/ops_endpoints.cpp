// GET /readyz, /metrics, /openapi.json, /v1/admin/status, /v1/admin/dead-letters;
// POST /v1/admin/projections/rebuild, /v1/admin/dead-letters/retry,
// /v1/admin/dead-letters/{id}/retry.
// (GET /healthz answers inline in request_handler.cpp: it only says the process is alive.)
#include <cstdint>
#include <limits>

#include "adapters/http/error_mapping.h"
#include "adapters/http/request_handler.h"
#include "codec/response_json.h"

namespace ordinal {
namespace {

constexpr std::uint64_t kDefaultDeadLetters = 100;
constexpr std::uint64_t kMaxDeadLetters = 1000;

HttpAnswer no_read_store() {
    return store_unavailable(StoreError{StoreError::Kind::Unavailable, "no read store"});
}

}  // namespace

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

void RequestHandler::handle_dead_letters(std::string_view query, const Respond& respond) {
    std::uint64_t limit = kDefaultDeadLetters;
    bool malformed = false;
    if (auto text = query_param(query, "limit", malformed)) {
        auto n = malformed ? std::nullopt : parse_positive(*text, kMaxDeadLetters);
        if (!n) {
            return respond(validation_failed(
                "invalid query parameters",
                {{"limit", "must be an integer from 1 to " + std::to_string(kMaxDeadLetters)}}));
        }
        limit = *n;
    }
    if (!api_.reads) return respond(no_read_store());
    blocking(respond, [this, limit] {
        auto letters = api_.reads->list_dead_letters(limit);
        if (!letters) return store_unavailable(letters.error());
        return json_answer(200, write_dead_letters_json(*letters));
    });
}

void RequestHandler::handle_dead_letter_retry(const RouteMatch& route, const Respond& respond) {
    std::optional<std::int64_t> id;
    if (route.id == RouteId::AdminRetryDeadLetter) {
        const auto n = parse_positive(route.param, std::numeric_limits<std::int64_t>::max());
        if (!n) return respond(not_found("no such dead letter"));
        id = static_cast<std::int64_t>(*n);
    }
    if (!api_.retry_dead_letters) return respond(no_read_store());
    blocking(respond, [this, id] {
        auto retry = api_.retry_dead_letters(id);
        if (!retry) return store_unavailable(retry.error());
        if (id && retry->retried == 0) return not_found("no such dead letter");
        return json_answer(200, write_dead_letter_retry_json(*retry));
    });
}

}  // namespace ordinal
