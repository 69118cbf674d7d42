#pragma once
// One HTTP/1.1 connection: reads a request, hands it to the RequestHandler, writes the answer,
// and repeats while the connection is kept alive. Everything runs on the connection's strand;
// answers produced on other threads are posted back to it. Internal to adapters/http.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "adapters/http/http_server.h"
#include "adapters/http/http_types.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/request_tracker.h"

namespace ordinal {

// Beast's request parser with a limit on the number of header fields (Beast has only a byte
// limit); past it the parse fails with http::error::header_limit, like an oversized header.
class RequestParser final
    : public boost::beast::http::request_parser<boost::beast::http::string_body> {
  public:
    explicit RequestParser(std::size_t max_fields) : max_fields_(max_fields) {}

  private:
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                       boost::beast::string_view value, boost::beast::error_code& ec) override;

    std::size_t max_fields_;
    std::size_t fields_ = 0;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
  public:
    // `socket` must have been accepted with a strand executor. `handler`, `options` and `tracker`
    // must outlive the io_context the socket belongs to.
    HttpSession(boost::asio::ip::tcp::socket&& socket, RequestHandler& handler,
                const HttpServerOptions& options, RequestTracker& tracker);
    ~HttpSession();
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;

    void start();

  private:
    using Response = boost::beast::http::response<boost::beast::http::string_body>;

    void wait_for_request();
    void read_header();
    void on_header(boost::beast::error_code ec);
    void read_body();
    void on_body(boost::beast::error_code ec);
    void run_request();
    void on_answer(HttpAnswer answer);
    void send(HttpAnswer answer, bool close);
    void on_written(bool close, boost::beast::error_code ec);
    void fail_request(boost::beast::error_code ec);
    void drain_then_close();
    void close();

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<RequestParser> parser_;
    std::shared_ptr<Response> response_;
    std::shared_ptr<boost::beast::http::response<boost::beast::http::empty_body>> continue_;
    std::shared_ptr<char[]> drain_buffer_;
    std::size_t drained_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool served_any_ = false;  // whether a request was answered on this connection yet
    RequestHandler& handler_;
    const HttpServerOptions& options_;
    RequestTracker& tracker_;
};

}  // namespace ordinal
