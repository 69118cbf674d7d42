#include "adapters/http/http_session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "adapters/http/error_mapping.h"

namespace ordinal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

constexpr std::size_t kFirstReadBytes = 4096;
// After an error answer, unread request bytes are read and dropped for a moment before closing:
// closing a socket with unread data sends a reset, which can destroy the answer in flight.
constexpr std::size_t kDrainBytes = 1 << 20;
constexpr std::chrono::seconds kDrainTime{1};

// The values of every field called `name` (an http::field or a string), joined as one.
template <class Name>
std::optional<std::string> joined(const http::fields& fields, const Name& name) {
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

}  // namespace

void RequestParser::on_field_impl(http::field name, beast::string_view name_string,
                                  beast::string_view value, beast::error_code& ec) {
    if (++fields_ > max_fields_) {
        ec = http::error::header_limit;
        return;
    }
    // What the base parser does with a field; it is private there, so it is repeated here.
    get().insert(name, name_string, value);
}

HttpSession::HttpSession(net::ip::tcp::socket&& socket, RequestHandler& handler,
                         const HttpServerOptions& options, RequestTracker& tracker)
    : stream_(std::move(socket)),
      // Room for one head and one read past it. A body streams through the parser into its own
      // string, and a pipelining client's further requests wait in the kernel until the answer
      // before them was taken: neither needs room here.
      buffer_(options.max_header_bytes + kFirstReadBytes),
      handler_(handler),
      options_(options),
      tracker_(tracker) {
    tracker_.connections.fetch_add(1);
}

HttpSession::~HttpSession() {
    tracker_.connections.fetch_sub(1);
}

void HttpSession::start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->wait_for_request(); });
}

// Idle phase: a kept-alive connection may wait up to idle_timeout for the next request's first
// byte. Pipelined bytes already buffered skip it.
void HttpSession::wait_for_request() {
    if (buffer_.size() > 0) return read_header();
    // A new connection gets no more time for its first byte than a request gets in all: idle
    // connections that never send anything must not hold connection slots for long.
    stream_.expires_after(served_any_ ? options_.idle_timeout
                                      : std::min(options_.idle_timeout, options_.request_timeout));
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                if (ec) return self->close();  // idle timeout, peer closed, reset
                                self->buffer_.commit(n);
                                self->read_header();
                            });
}

// Request phase: from the first byte, the whole request must arrive within request_timeout,
// however slowly it trickles in.
void HttpSession::read_header() {
    parser_.emplace(options_.max_header_fields);
    parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(options_.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::on_header(beast::error_code ec) {
    if (ec) return fail_request(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    if (parser_->is_done()) return run_request();
    const auto expect = req[http::field::expect];
    if (!expect.empty() && beast::iequals(expect, "100-continue")) {
        continue_ =
            std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
        http::async_write(stream_, *continue_,
                          [self = shared_from_this()](beast::error_code wec, std::size_t) {
                              self->continue_.reset();
                              if (wec) return self->close();
                              self->read_body();
                          });
        return;
    }
    read_body();
}

void HttpSession::read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(beast::error_code ec) {
    if (ec) return fail_request(ec);
    run_request();
}

void HttpSession::fail_request(beast::error_code ec) {
    if (parser_ && parser_->is_header_done()) version_ = parser_->get().version();
    if (ec == http::error::header_limit) {
        send(
            error_answer(431, "request_header_fields_too_large",
                         "request headers exceed " + std::to_string(options_.max_header_bytes) +
                             " bytes or " + std::to_string(options_.max_header_fields) + " fields"),
            true);
    } else if (ec == http::error::body_limit) {
        send(error_answer(413, "payload_too_large",
                          "request bodies are limited to " +
                              std::to_string(options_.max_body_bytes) + " bytes"),
             true);
    } else if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
               ec == http::error::partial_message || ec == net::error::eof ||
               ec == net::error::connection_reset || ec == net::error::operation_aborted) {
        close();  // nobody is there to read an answer, or the client was too slow to deserve one
    } else {
        send(error_answer(400, "bad_request", "the request is not valid HTTP/1.1"), true);
    }
}

void HttpSession::run_request() {
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.body = std::move(req.body());
    request.content_type = joined(req, http::field::content_type);
    request.authorization = joined(req, http::field::authorization);
    request.idempotency_key = joined(req, "Idempotency-Key");
    request.consistency_token = joined(req, "X-Consistency-Token");
    request.consistency_wait_ms = joined(req, "X-Consistency-Wait-Ms");
    request.traceparent = joined(req, "traceparent");
    request.tracestate = joined(req, "tracestate");
    parser_.reset();

    if (!tracker_.try_begin_request()) {
        return send(error_answer(503, "unavailable", "the server is shutting down"), true);
    }
    // The handler's time (a consistency wait, a slow store) is not the client's: no deadline.
    stream_.expires_never();
    // The answer may come from any thread. It carries the only reference this callback holds to
    // the session onto the strand, so no foreign thread ever drops the last one.
    handler_.handle(std::move(request), [self = shared_from_this()](HttpAnswer answer) mutable {
        auto session = std::move(self);
        auto executor = session->stream_.get_executor();
        net::post(executor, [session = std::move(session), answer = std::move(answer)]() mutable {
            session->on_answer(std::move(answer));
        });
    });
}

void HttpSession::on_answer(HttpAnswer answer) {
    served_any_ = true;
    const bool close_after = !keep_alive_ || tracker_.stopping();
    send(std::move(answer), close_after);
    tracker_.end_request();  // after send: the write now holds the session
}

void HttpSession::send(HttpAnswer answer, bool close_after) {
    auto res = std::make_shared<Response>();
    res->version(version_);
    res->result(answer.status);
    res->set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) res->set(name, value);
    res->body() = std::move(answer.body);
    res->keep_alive(!close_after);
    res->prepare_payload();
    response_ = res;
    // A client that does not read its answers does not hold the connection forever either.
    stream_.expires_after(options_.request_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                          self->on_written(close_after, ec);
                      });
}

void HttpSession::on_written(bool close_after, beast::error_code ec) {
    response_.reset();
    if (ec) return close();
    if (close_after) return drain_then_close();
    wait_for_request();
}

void HttpSession::drain_then_close() {
    if (!drain_buffer_) {
        beast::error_code ignored;
        stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
        drain_buffer_.reset(new char[kFirstReadBytes]);
        stream_.expires_after(kDrainTime);
    }
    stream_.async_read_some(net::buffer(drain_buffer_.get(), kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                self->drained_ += n;
                                if (ec || self->drained_ > kDrainBytes) return self->close();
                                self->drain_then_close();
                            });
}

void HttpSession::close() {
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
}

}  // namespace ordinal
