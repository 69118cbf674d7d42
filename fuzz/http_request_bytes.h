#pragma once
// Raw HTTP/1.1 bytes -> the HttpRequest values the RequestHandler takes, the way the server does
// it: Boost.Beast's request parser with the server's default limits, then the same header
// extraction as HttpSession::run_request (src/adapters/http/http_session.cpp). Shared by the
// fuzz_http_request target and tests/unit/fuzz_regressions_test.cpp.
//
// The conversion is copied, not called: it lives inside HttpSession::run_request, next to the
// socket code. Keep the two in step (or move it to a free function in adapters/http and use it
// here).
// adapters/http compiles Boost.Beast with these; a TU linked with it must agree (one definition).
#if !defined(BOOST_BEAST_USE_STD_STRING_VIEW) || !defined(BOOST_ASIO_NO_DEPRECATED)
#error "define BOOST_BEAST_USE_STD_STRING_VIEW and BOOST_ASIO_NO_DEPRECATED, as adapters/http does"
#endif
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/http_types.h"

namespace ordinal::fuzz {

inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;  // HttpServerOptions defaults
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxHeaderFields = 100;

namespace detail {

template <class Name>
std::optional<std::string> joined(const boost::beast::http::fields& fields, Name name) {
    std::optional<std::string> out;
    for (auto [it, end] = fields.equal_range(name); it != end; ++it) {
        if (out) {
            *out += ", ";
            *out += std::string(it->value());
        } else {
            out = std::string(it->value());
        }
    }
    return out;
}

}  // namespace detail

// Parses one request from the front of `in`. Returns the bytes it used, or 0 when `in` does not
// start with a complete, valid request within the limits (the server would answer 400, 413 or
// 431, or wait for more bytes).
inline std::size_t parse_http_request(std::string_view in, HttpRequest& out) {
    namespace http = boost::beast::http;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    parser.body_limit(kMaxBodyBytes);
    parser.eager(true);
    std::size_t used = 0;
    while (!parser.is_done()) {
        boost::beast::error_code ec;
        const std::size_t n =
            parser.put(boost::asio::const_buffer(in.data() + used, in.size() - used), ec);
        used += n;
        if (ec == http::error::need_more && n > 0) continue;
        if (ec) return 0;
        if (n == 0) return 0;  // no progress: the input ends inside the request
    }
    auto& req = parser.get();
    if (static_cast<std::size_t>(std::distance(req.begin(), req.end())) > kMaxHeaderFields)
        return 0;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    out.body = std::move(req.body());
    out.content_type = detail::joined(req, http::field::content_type);
    out.authorization = detail::joined(req, http::field::authorization);
    out.idempotency_key = detail::joined(req, std::string_view("Idempotency-Key"));
    out.consistency_token = detail::joined(req, std::string_view("X-Consistency-Token"));
    out.consistency_wait_ms = detail::joined(req, std::string_view("X-Consistency-Wait-Ms"));
    return used;
}

// Up to `max` pipelined requests from the front of `in`.
inline std::vector<HttpRequest> parse_http_requests(std::string_view in, std::size_t max) {
    std::vector<HttpRequest> out;
    while (out.size() < max && !in.empty()) {
        HttpRequest r;
        const std::size_t used = parse_http_request(in, r);
        if (used == 0) break;
        in.remove_prefix(used);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace ordinal::fuzz
