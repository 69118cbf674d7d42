#include "adapters/http/route_table.h"

#include <vector>

namespace ordinal {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') return out;
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
        if (out.size() > 8) break;  // no route is that deep; stop early on hostile paths
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string param_of(std::string_view raw) {
    return percent_decode(raw, false).value_or(std::string(raw));
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_value(s[i + 1]);
            const int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<std::uint64_t> parse_positive(std::string_view text, std::uint64_t max) {
    if (text.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (max - digit) / 10) return std::nullopt;  // n * 10 + digit > max
        n = n * 10 + digit;
    }
    if (n < 1) return std::nullopt;
    return n;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name,
                                       bool& malformed) {
    std::optional<std::string> found;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        const auto decoded_key = percent_decode(key, true);
        if (decoded_key && *decoded_key == name) {
            found = percent_decode(value, true);
            malformed = !found.has_value();
            if (malformed) found = std::string();
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return found;
}

std::optional<RouteMatch> match_route(std::string_view path) {
    // The console's files may sit in folders; static_files.cpp decides which names exist.
    if (path == "/console") return RouteMatch{RouteId::Console, {}};
    if (path.starts_with("/console/"))
        return RouteMatch{RouteId::Console, param_of(path.substr(9))};
    const auto seg = split_path(path);
    const auto n = seg.size();
    auto is = [&](std::size_t i, std::string_view s) { return i < n && seg[i] == s; };
    auto param_ok = [&](std::size_t i) { return i < n && !seg[i].empty(); };

    if (n == 1) {
        if (is(0, "healthz")) return RouteMatch{RouteId::Healthz, {}};
        if (is(0, "readyz")) return RouteMatch{RouteId::Readyz, {}};
        if (is(0, "metrics")) return RouteMatch{RouteId::Metrics, {}};
        if (is(0, "openapi.json")) return RouteMatch{RouteId::OpenApi, {}};
        return std::nullopt;
    }
    if (!is(0, "v1")) return std::nullopt;
    if (n == 3 && is(1, "admin") && is(2, "status")) return RouteMatch{RouteId::AdminStatus, {}};
    if (n == 4 && is(1, "admin") && is(2, "projections") && is(3, "rebuild")) {
        return RouteMatch{RouteId::AdminRebuild, {}};
    }
    if (n == 3 && is(1, "admin") && is(2, "consistency"))
        return RouteMatch{RouteId::AdminTokenCheck, {}};
    if (n == 5 && is(1, "admin") && is(2, "streams") && param_ok(3) && param_ok(4))
        return RouteMatch{RouteId::AdminStream, param_of(seg[3]) + "/" + param_of(seg[4])};
    if (n == 3 && is(1, "admin") && is(2, "audit")) return RouteMatch{RouteId::AdminAudit, {}};
    if (n == 3 && is(1, "admin") && is(2, "verify")) return RouteMatch{RouteId::AdminVerify, {}};
    if (n == 4 && is(1, "admin") && is(2, "requests") && param_ok(3))
        return RouteMatch{RouteId::AdminRequest, param_of(seg[3])};
    if (n >= 3 && is(1, "admin") && is(2, "dead-letters")) {
        if (n == 3) return RouteMatch{RouteId::AdminDeadLetters, {}};
        if (n == 4 && is(3, "retry")) return RouteMatch{RouteId::AdminRetryAll, {}};
        if (n == 5 && param_ok(3) && is(4, "retry"))
            return RouteMatch{RouteId::AdminRetryDeadLetter, param_of(seg[3])};
        if (n == 5 && param_ok(3) && is(4, "discard"))
            return RouteMatch{RouteId::AdminDiscardDeadLetter, param_of(seg[3])};
        return std::nullopt;
    }
    if (n == 3 && is(1, "products") && param_ok(2))
        return RouteMatch{RouteId::Product, param_of(seg[2])};
    if (n == 2 && is(1, "orders")) return RouteMatch{RouteId::Orders, {}};
    if (n == 3 && is(1, "orders") && param_ok(2))
        return RouteMatch{RouteId::Order, param_of(seg[2])};
    if (n == 4 && is(1, "orders") && param_ok(2)) {
        if (is(3, "pay")) return RouteMatch{RouteId::OrderPay, param_of(seg[2])};
        if (is(3, "ship")) return RouteMatch{RouteId::OrderShip, param_of(seg[2])};
        if (is(3, "cancel")) return RouteMatch{RouteId::OrderCancel, param_of(seg[2])};
        return std::nullopt;
    }
    if (n == 4 && is(1, "users") && param_ok(2) && is(3, "orders")) {
        return RouteMatch{RouteId::UserOrders, param_of(seg[2])};
    }
    return std::nullopt;
}

std::string_view allowed_methods(RouteId id) {
    switch (id) {
        case RouteId::Product:
            return "GET, PUT";
        case RouteId::AdminRebuild:
        case RouteId::AdminRetryAll:
        case RouteId::AdminRetryDeadLetter:
        case RouteId::AdminDiscardDeadLetter:
        case RouteId::AdminVerify:
        case RouteId::Orders:
        case RouteId::OrderPay:
        case RouteId::OrderShip:
        case RouteId::OrderCancel:
            return "POST";
        default:
            return "GET";
    }
}

bool method_allowed(RouteId id, std::string_view method) {
    if (id == RouteId::Product) return method == "GET" || method == "PUT";
    return method == allowed_methods(id);
}

bool is_admin(RouteId id, std::string_view method) {
    switch (id) {
        case RouteId::AdminStatus:
        case RouteId::AdminRebuild:
        case RouteId::AdminDeadLetters:
        case RouteId::AdminRetryAll:
        case RouteId::AdminRetryDeadLetter:
        case RouteId::AdminDiscardDeadLetter:
        case RouteId::AdminAudit:
        case RouteId::AdminVerify:
        case RouteId::AdminStream:
        case RouteId::AdminTokenCheck:
        case RouteId::AdminRequest:
            return true;
        case RouteId::Product:
            return method == "PUT";
        default:
            return false;
    }
}

std::string_view route_label(RouteId id) {
    switch (id) {
        case RouteId::Healthz:
            return "/healthz";
        case RouteId::Readyz:
            return "/readyz";
        case RouteId::Metrics:
            return "/metrics";
        case RouteId::OpenApi:
            return "/openapi.json";
        case RouteId::AdminStatus:
            return "/v1/admin/status";
        case RouteId::AdminRebuild:
            return "/v1/admin/projections/rebuild";
        case RouteId::AdminDeadLetters:
            return "/v1/admin/dead-letters";
        case RouteId::AdminRetryAll:
            return "/v1/admin/dead-letters/retry";
        case RouteId::AdminRetryDeadLetter:
            return "/v1/admin/dead-letters/{id}/retry";
        case RouteId::AdminDiscardDeadLetter:
            return "/v1/admin/dead-letters/{id}/discard";
        case RouteId::AdminAudit:
            return "/v1/admin/audit";
        case RouteId::AdminVerify:
            return "/v1/admin/verify";
        case RouteId::AdminStream:
            return "/v1/admin/streams/{type}/{id}";
        case RouteId::AdminTokenCheck:
            return "/v1/admin/consistency";
        case RouteId::Console:
            return "/console";
        case RouteId::AdminRequest:
            return "/v1/admin/requests/{id}";
        case RouteId::Product:
            return "/v1/products/{sku}";
        case RouteId::Orders:
            return "/v1/orders";
        case RouteId::Order:
            return "/v1/orders/{id}";
        case RouteId::OrderPay:
            return "/v1/orders/{id}/pay";
        case RouteId::OrderShip:
            return "/v1/orders/{id}/ship";
        case RouteId::OrderCancel:
            return "/v1/orders/{id}/cancel";
        case RouteId::UserOrders:
            return "/v1/users/{userId}/orders";
    }
    return "other";
}

}  // namespace ordinal
