#pragma once
// The request and answer as the request handler sees them: plain values, no Beast types, so the
// routing and endpoint logic can be tested without sockets.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ordinal {

struct HttpRequest {
    std::string method;  // as sent, e.g. "GET"
    std::string target;  // request-target: path and optional query
    std::string body;
    // The header values the endpoints read. Repeated headers are joined with ", " (RFC 9110
    // §5.3); nullopt when the header is absent.
    std::optional<std::string> content_type;
    std::optional<std::string> idempotency_key;
    std::optional<std::string> authorization;
    std::optional<std::string> consistency_token;
    std::optional<std::string> consistency_wait_ms;
    std::optional<std::string> traceparent;  // W3C Trace Context (codec/trace_context.h)
    std::optional<std::string> tracestate;
};

struct HttpAnswer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/Length
};

// Called exactly once per request, on any thread.
using Respond = std::function<void(HttpAnswer)>;

}  // namespace ordinal
