// GET /readyz, /metrics, /openapi.json, /v1/admin/status, /v1/admin/dead-letters,
// /v1/admin/requests/{id}, /v1/admin/audit; POST /v1/admin/projections/rebuild,
// /v1/admin/dead-letters/retry, /v1/admin/dead-letters/{id}/retry,
// /v1/admin/dead-letters/{id}/discard, /v1/admin/verify (admin requests: core/admin_requests.h).
// (GET /healthz answers inline in request_handler.cpp: it only says the process is alive.)
#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "adapters/http/error_mapping.h"
#include "adapters/http/header_values.h"
#include "adapters/http/request_handler.h"
#include "codec/console_json.h"
#include "codec/response_json.h"
#include "domain/time_format.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

constexpr std::uint64_t kDefaultDeadLetters = 100;
constexpr std::uint64_t kMaxDeadLetters = 1000;
constexpr std::uint64_t kDefaultAudit = 100;
constexpr std::uint64_t kMaxAudit = 1000;
// Set while an admin call of this process waits for its request's outcome (submit_admin).
std::atomic<bool> admin_waiting{false};

constexpr std::uint64_t kDefaultAdminWaitS = 30;
constexpr std::uint64_t kMaxAdminWaitS = 300;

std::string admin_request_location(std::int64_t id) {
    return "/v1/admin/requests/" + std::to_string(id);
}

std::optional<std::uint64_t> parse_bounded(std::string_view text, std::uint64_t max) {
    if (text == "0") return 0;
    return parse_positive(text, max);
}

// A finished request answers as the action did when it ran in the process asked: its result
// (200), or its error. One still queued or running is 202 with the request itself.
HttpAnswer admin_request_answer(const AdminRequest& r) {
    HttpAnswer a;
    if (r.state == "done") {
        a = json_answer(200, r.result.empty() ? std::string("{}") : r.result);
    } else if (r.state == "failed") {
        if (r.error_code == "not_found") {
            a = not_found(r.error);
        } else if (r.error_code == "unavailable") {
            a = error_answer(503, "unavailable", r.error);
        } else {
            a = error_answer(500, "admin_request_failed", r.error);
        }
    } else {
        a = json_answer(202, write_admin_request_json(r));
    }
    a.headers.emplace_back("Location", admin_request_location(r.id));
    a.headers.emplace_back("Ordinal-Admin-Request", std::to_string(r.id));
    return a;
}

HttpAnswer no_read_store() {
    return store_unavailable(StoreError{StoreError::Kind::Unavailable, "no read store"});
}

// ?limit=, 1 to `max`; `out` unchanged when absent. False (and `error` set) when invalid.
bool read_limit(std::string_view query, std::uint64_t max, std::uint64_t& out,
                std::vector<FieldError>& errors) {
    bool malformed = false;
    auto text = query_param(query, "limit", malformed);
    if (!text && !malformed) return true;
    auto n = malformed ? std::nullopt : parse_positive(*text, max);
    if (!n) {
        errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(max)});
        return false;
    }
    out = *n;
    return true;
}

// A time bound of the dead-letter search: RFC 3339 UTC ("2026-12-06T13:00:00Z", with or without
// milliseconds), turned into the form the stores write created_at in, so that they compare as
// text. Empty when absent.
std::string read_time_bound(std::string_view query, const char* name,
                            std::vector<FieldError>& errors) {
    bool malformed = false;
    auto text = query_param(query, name, malformed);
    if (!text && !malformed) return {};
    std::optional<std::int64_t> ms;
    if (!malformed) {
        ms = parse_rfc3339_ms(*text);
        if (!ms && text->size() == 20 && text->back() == 'Z')
            ms = parse_rfc3339_ms(text->substr(0, 19) + ".000Z");
    }
    if (!ms) {
        errors.push_back({name, "must be an RFC 3339 UTC time, e.g. 2026-12-06T13:00:00Z"});
        return {};
    }
    return format_rfc3339_ms(*ms);
}

// A text filter (?type=, ?reason=): 1 to `max` characters of UTF-8, no control characters.
std::string read_text_filter(std::string_view query, const char* name,
                             std::vector<FieldError>& errors) {
    bool malformed = false;
    auto text = query_param(query, name, malformed);
    if (!text && !malformed) return {};
    const auto bad = malformed ? std::optional<std::string>("must be percent-encoded UTF-8")
                               : check_reason(*text);
    if (bad) {
        errors.push_back({name, *bad});
        return {};
    }
    return *text;
}

}  // namespace

// These three answer within a bound whatever the stores do: the service's checks behind them wait
// for the stores a bounded time (app/watched_probe.h), and they run on the ops runner.
void RequestHandler::handle_readyz(const Respond& respond) {
    ops(respond, [this] {
        std::vector<ComponentHealth> components;
        if (api_.readiness) components = api_.readiness();
        bool ready = true;
        for (const auto& c : components) ready = ready && c.ok;
        return json_answer(ready ? 200 : 503, write_readiness_json(ready, components));
    });
}

void RequestHandler::handle_metrics(const Respond& respond) {
    // Rendering runs collection hooks that may query the stores: off the I/O threads.
    ops(respond, [this] {
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
    ops(respond, [this] {
        StatusReport report;
        if (api_.status) report = api_.status();
        return json_answer(200, write_status_json(report));
    });
}

void RequestHandler::handle_rebuild(std::string_view query, const Respond& respond) {
    submit_admin(kRebuildRequest, std::nullopt, {}, query, respond);
}

void RequestHandler::handle_dead_letters(std::string_view query, const Respond& respond) {
    DeadLetterQuery search;
    std::uint64_t limit = kDefaultDeadLetters;
    std::vector<FieldError> errors;
    read_limit(query, kMaxDeadLetters, limit, errors);
    search.limit = limit;
    search.event_type = read_text_filter(query, "type", errors);
    search.reason = read_text_filter(query, "reason", errors);
    search.since = read_time_bound(query, "since", errors);
    search.until = read_time_bound(query, "until", errors);
    if (!errors.empty())
        return respond(validation_failed("invalid query parameters", std::move(errors)));
    // Any process may list them: the admin desk holds the read store where no api role runs.
    ReadStore* store = api_.reads ? api_.reads : api_.admin ? &api_.admin->store() : nullptr;
    if (!store) return respond(no_read_store());
    blocking(respond, [store, search = std::move(search)] {
        auto letters = store->list_dead_letters(search);
        if (!letters) return store_unavailable(letters.error());
        return json_answer(200, write_dead_letters_json(*letters));
    });
}

void RequestHandler::handle_dead_letter_retry(const RouteMatch& route, std::string_view query,
                                              const Respond& respond) {
    std::optional<std::int64_t> id;
    if (route.id == RouteId::AdminRetryDeadLetter) {
        const auto n = parse_positive(route.param, std::numeric_limits<std::int64_t>::max());
        if (!n) return respond(not_found("no such dead letter"));
        id = static_cast<std::int64_t>(*n);
    }
    submit_admin(kRetryRequest, id, {}, query, respond);
}

// Carried as an admin request like a retry: the dead letters are the projector's, so the
// projector process discards them, whichever process was asked; the request and its audit entry
// keep the reason.
void RequestHandler::handle_dead_letter_discard(const RouteMatch& route, std::string_view query,
                                                const HttpRequest& request,
                                                const Respond& respond) {
    const auto n = parse_positive(route.param, std::numeric_limits<std::int64_t>::max());
    if (!n) return respond(not_found("no such dead letter"));
    if (request.content_type && !is_json_media_type(*request.content_type)) {
        return respond(
            error_answer(415, "unsupported_media_type", "the body must be application/json"));
    }
    auto reason = read_discard_body(request.body);
    if (!reason) return respond(validation_failed("invalid discard request", reason.error()));
    submit_admin(kDiscardRequest, static_cast<std::int64_t>(*n), std::move(*reason), query,
                 respond);
}

void RequestHandler::handle_audit(std::string_view query, const Respond& respond) {
    std::uint64_t limit = kDefaultAudit;
    std::vector<FieldError> errors;
    if (!read_limit(query, kMaxAudit, limit, errors))
        return respond(validation_failed("invalid query parameters", std::move(errors)));
    if (!api_.admin) return respond(no_read_store());
    blocking(respond, [this, limit] {
        auto entries = api_.admin->store().list_audit(limit);
        if (!entries) return store_unavailable(entries.error());
        return json_answer(200, write_audit_json(*entries));
    });
}

// Records the request in the read store (a projector process carries it out, whichever process
// took it) and waits up to ?wait= seconds for its outcome: the outcome when it comes in time,
// else 202 and the request to follow at its Location.
void RequestHandler::submit_admin(const char* kind, std::optional<std::int64_t> target,
                                  std::string reason, std::string_view query,
                                  const Respond& respond) {
    std::uint64_t wait_s = kDefaultAdminWaitS;
    bool malformed = false;
    if (auto text = query_param(query, "wait", malformed); text || malformed) {
        const auto n = malformed ? std::nullopt : parse_bounded(*text, kMaxAdminWaitS);
        if (!n) {
            return respond(validation_failed(
                "invalid query parameters",
                {{"wait", "must be an integer from 0 to " + std::to_string(kMaxAdminWaitS)}}));
        }
        wait_s = *n;
    }
    if (!api_.admin) return respond(no_read_store());
    // The wait holds a thread of the blocking pool, which queries and commands share: one admin
    // call at a time waits in a process; the others answer at once (202 unless already done).
    const bool waits = wait_s > 0 && !admin_waiting.exchange(true);
    if (!waits) wait_s = 0;
    blocking(respond, [this, kind, target, reason = std::move(reason), wait_s, waits] {
        struct Release {
            std::atomic<bool>* flag;
            ~Release() {
                if (flag) flag->store(false);
            }
        } release{waits ? &admin_waiting : nullptr};
        auto submitted = api_.admin->submit(kind, target, reason);
        if (!submitted) return store_unavailable(submitted.error());
        auto outcome = api_.admin->wait(submitted->first, std::chrono::seconds(wait_s));
        if (!outcome) return store_unavailable(outcome.error());
        return admin_request_answer(*outcome);
    });
}

void RequestHandler::handle_admin_request(const RouteMatch& route, const Respond& respond) {
    const auto n = parse_positive(route.param, std::numeric_limits<std::int64_t>::max());
    if (!n) return respond(not_found("no such admin request"));
    if (!api_.admin) return respond(no_read_store());
    blocking(respond, [this, id = static_cast<std::int64_t>(*n)] {
        auto request = api_.admin->get(id);
        if (!request) return store_unavailable(request.error());
        if (!*request) return not_found("no such admin request");
        auto a = json_answer(200, write_admin_request_json(**request));
        a.headers.emplace_back("Location", admin_request_location(id));
        return a;
    });
}

}  // namespace ordinal
