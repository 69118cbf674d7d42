#include "adapters/http/request_handler.h"

#include <chrono>
#include <exception>
#include <memory>

#include "adapters/http/error_mapping.h"
#include "adapters/http/header_values.h"

namespace ordinal {
namespace {

// Wraps a Respond so that it runs at most once, whatever path (callback, exception) gets there
// first: the contract of handle() is "exactly once".
Respond once(Respond respond) {
    auto state = std::make_shared<std::pair<std::atomic<bool>, Respond>>();
    state->first.store(false);
    state->second = std::move(respond);
    return [state](HttpAnswer answer) {
        if (!state->first.exchange(true)) {
            Respond r = std::move(state->second);
            r(std::move(answer));
        }
    };
}

// Metrics labels must stay few: hostile clients choose methods and paths freely.
std::string_view method_label(std::string_view method) {
    for (std::string_view known : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
        if (method == known) return known;
    }
    return "other";
}

}  // namespace

RequestHandler::RequestHandler(ServiceApi api, BlockingRunner run_blocking,
                               std::string_view openapi_document, BlockingRunner run_ops)
    : api_(std::move(api)),
      run_blocking_(std::move(run_blocking)),
      run_ops_(run_ops ? std::move(run_ops) : run_blocking_),
      openapi_document_(openapi_document) {
    // Registered up front, so alerts on it see 0 rather than no series.
    if (api_.metrics) {
        consistency_timeouts_ = &api_.metrics->counter(
            "ordinal_consistency_timeouts_total",
            "Reads with a consistency token answered 503 consistency_timeout: the projection "
            "did not reach the token's versions within the wait");
    }
}

void RequestHandler::set_command_deadline(std::chrono::milliseconds deadline) {
    command_deadline_ = deadline;
    deadlines_ = std::make_unique<AnswerDeadlines>();
}

void RequestHandler::handle(HttpRequest request, Respond respond) {
    const auto [path, query] = split_target(request.target);
    const auto route = match_route(path);
    const std::string method(method_label(request.method));
    const std::string label(route ? route_label(route->id) : std::string_view("unmatched"));
    const auto started = std::chrono::steady_clock::now();

    Respond reply = once([this, method, label, started,
                          respond = std::move(respond)](HttpAnswer answer) {
        if (api_.metrics) {
            const double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            api_.metrics
                ->counter("ordinal_http_requests_total",
                          "HTTP requests by method, route and status",
                          {{"method", method},
                           {"route", label},
                           {"status", std::to_string(answer.status)}})
                .inc();
            api_.metrics
                ->histogram("ordinal_http_request_duration_seconds",
                            "HTTP request latency by method and route",
                            {{"method", method}, {"route", label}})
                .observe(secs);
        }
        respond(std::move(answer));
    });

    try {
        if (!route) return reply(not_found());
        if (!method_allowed(route->id, request.method)) {
            HttpAnswer a =
                error_answer(405, "method_not_allowed",
                             "this resource allows " + std::string(allowed_methods(route->id)));
            a.headers.emplace_back("Allow", std::string(allowed_methods(route->id)));
            return reply(std::move(a));
        }
        if (is_admin(route->id, request.method) && !api_.admin_token.empty() &&
            !bearer_token_matches(request.authorization, api_.admin_token)) {
            HttpAnswer a =
                error_answer(401, "unauthorized", "this endpoint requires the admin bearer token");
            a.headers.emplace_back("WWW-Authenticate", "Bearer");
            return reply(std::move(a));
        }
        dispatch(*route, query, request, reply);
    } catch (const std::exception&) {
        reply(internal_error());  // a no-op if an answer already went out
    }
}

void RequestHandler::dispatch(const RouteMatch& route, std::string_view query, HttpRequest& request,
                              const Respond& respond) {
    // A relay- or projector-only process serves its operations endpoints and nothing else.
    const bool business = route.id == RouteId::Product || route.id == RouteId::Orders ||
                          route.id == RouteId::Order || route.id == RouteId::OrderPay ||
                          route.id == RouteId::OrderShip || route.id == RouteId::OrderCancel ||
                          route.id == RouteId::UserOrders;
    if (business && (!api_.commands || !api_.reads)) {
        return respond(error_answer(404, "not_found",
                                    "this process runs no api role; it serves operations only"));
    }
    switch (route.id) {
        case RouteId::Healthz:
            return respond(json_answer(200, write_health_json()));
        case RouteId::Readyz:
            return handle_readyz(respond);
        case RouteId::Metrics:
            return handle_metrics(respond);
        case RouteId::OpenApi:
            return handle_openapi(respond);
        case RouteId::AdminStatus:
            return handle_admin_status(respond);
        case RouteId::AdminRebuild:
            return handle_rebuild(query, respond);
        case RouteId::AdminDeadLetters:
            return handle_dead_letters(query, respond);
        case RouteId::AdminRetryAll:
        case RouteId::AdminRetryDeadLetter:
            return handle_dead_letter_retry(route, query, respond);
        case RouteId::AdminDiscardDeadLetter:
            return handle_dead_letter_discard(route, query, request, respond);
        case RouteId::AdminAudit:
            return handle_audit(query, respond);
        case RouteId::AdminVerify:
            return submit_admin(kVerifyRequest, std::nullopt, {}, query, respond);
        case RouteId::AdminRequest:
            return handle_admin_request(route, respond);
        case RouteId::AdminStream:
            return handle_admin_stream(route, respond);
        case RouteId::AdminTokenCheck:
            return handle_token_check(query, respond);
        case RouteId::Console:
            return handle_console(route, respond);
        case RouteId::Product:
            if (request.method == "PUT")
                return handle_command(CommandKind::UpsertProduct, route.param, request, respond);
            return handle_query(route, query, request, respond);
        case RouteId::Orders:
            return handle_command(CommandKind::PlaceOrder, {}, request, respond);
        case RouteId::OrderPay:
            return handle_command(CommandKind::PayOrder, route.param, request, respond);
        case RouteId::OrderShip:
            return handle_command(CommandKind::ShipOrder, route.param, request, respond);
        case RouteId::OrderCancel:
            return handle_command(CommandKind::CancelOrder, route.param, request, respond);
        case RouteId::Order:
        case RouteId::UserOrders:
            return handle_query(route, query, request, respond);
    }
    respond(not_found());
}

namespace {

std::function<void()> answering(const Respond& respond, std::function<HttpAnswer()> work) {
    return [respond, work = std::move(work)] {
        try {
            respond(work());
        } catch (const std::exception&) {
            respond(internal_error());
        }
    };
}

}  // namespace

void RequestHandler::blocking(const Respond& respond, std::function<HttpAnswer()> work) {
    run_blocking_(answering(respond, std::move(work)));
}

void RequestHandler::ops(const Respond& respond, std::function<HttpAnswer()> work) {
    run_ops_(answering(respond, std::move(work)));
}

}  // namespace ordinal
