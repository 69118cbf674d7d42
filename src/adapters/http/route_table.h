#pragma once
// The URL space of the API: which path shapes exist, which methods each accepts, and the
// low-cardinality label each gets in metrics. Path parameters are percent-decoded; a parameter
// that does not decode is kept as sent (it then fails the sku or UUID rule downstream).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

enum class RouteId {
    Healthz,
    Readyz,
    Metrics,
    OpenApi,
    AdminStatus,
    AdminRebuild,
    AdminDeadLetters,        // /v1/admin/dead-letters                GET
    AdminRetryAll,           // /v1/admin/dead-letters/retry          POST
    AdminRetryDeadLetter,    // /v1/admin/dead-letters/{id}/retry     POST
    AdminDiscardDeadLetter,  // /v1/admin/dead-letters/{id}/discard POST
    AdminAudit,              // /v1/admin/audit                       GET
    AdminVerify,             // /v1/admin/verify                      POST
    AdminStream,             // /v1/admin/streams/{type}/{id}         GET  (param "type/id")
    AdminTokenCheck,         // /v1/admin/consistency?token=...       GET
    Console,       // /console, /console/{file}             GET  (param: the file, decoded)
    AdminRequest,  // /v1/admin/requests/{id}               GET
    Product,       // /v1/products/{sku}           GET, PUT (admin)
    Orders,        // /v1/orders                   POST
    Order,         // /v1/orders/{id}              GET
    OrderPay,      // /v1/orders/{id}/pay          POST
    OrderShip,     // /v1/orders/{id}/ship         POST
    OrderCancel,   // /v1/orders/{id}/cancel       POST
    UserOrders,    // /v1/users/{userId}/orders    GET
};

struct RouteMatch {
    RouteId id = RouteId::Healthz;
    std::string param;  // the decoded path parameter, if the route has one
};

// `path` is the request-target without its query. nullopt: no such path (404).
std::optional<RouteMatch> match_route(std::string_view path);

// "GET", "GET, PUT", ...: the value of the Allow header of a 405.
std::string_view allowed_methods(RouteId id);
bool method_allowed(RouteId id, std::string_view method);

// Admin endpoints need the bearer token when one is configured.
bool is_admin(RouteId id, std::string_view method);

// Metrics label: the route template, e.g. "/v1/orders/{id}/pay".
std::string_view route_label(RouteId id);

// Splits a request-target into the path and the query (without '?').
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// Percent-decoding of one path segment or query component ('+' is a space only in queries).
// nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

// A decimal integer from 1 to `max`, digits only (a limit, an id); nullopt otherwise.
std::optional<std::uint64_t> parse_positive(std::string_view text, std::uint64_t max);

// The value of `name` in a query string (last occurrence wins), decoded; nullopt when absent.
// `malformed` is set when the value does not decode.
std::optional<std::string> query_param(std::string_view query, std::string_view name,
                                       bool& malformed);

}  // namespace ordinal
