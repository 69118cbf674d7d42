#include "adapters/http/http_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "adapters/http/error_mapping.h"
#include "adapters/http/http_session.h"
#include "adapters/http/openapi_document.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/request_tracker.h"
#include "domain/thread_annotations.h"
#include "ports/thread_name.h"

namespace ordinal {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Sent as is to a connection over the limit: no parsing, no handler, just a clear refusal.
const std::string& over_capacity_response() {
    static const std::string response = [] {
        const std::string body =
            R"({"error":"overloaded","message":"too many connections; retry later"})";
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
               "1\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    return response;
}

void refuse_connection(tcp::socket socket) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    stream->expires_after(std::chrono::seconds(1));
    net::async_write(*stream, net::buffer(over_capacity_response()),
                     [stream](beast::error_code, std::size_t) {
                         beast::error_code ignored;
                         stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
                         stream->socket().close(ignored);
                     });
}

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(net::io_context& ioc, RequestHandler& handler, const HttpServerOptions& options,
             RequestTracker& tracker)
        : ioc_(ioc),
          acceptor_(net::make_strand(ioc)),
          retry_timer_(acceptor_.get_executor()),
          handler_(handler),
          options_(options),
          tracker_(tracker) {}

    Expected<std::uint16_t, std::string> bind(const std::string& host, std::uint16_t port) {
        beast::error_code ec;
        const auto address = net::ip::make_address(host, ec);
        if (ec) return unexpected("invalid listen address '" + host + "': " + ec.message());
        const tcp::endpoint endpoint(address, port);
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return unexpected(ec.message());
        const auto bound = acceptor_.local_endpoint(ec);
        if (ec) return unexpected(ec.message());
        return bound.port();
    }

    void start() {
        net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
    }

    void stop() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            beast::error_code ignored;
            self->acceptor_.close(ignored);
            self->retry_timer_.cancel();
        });
    }

  private:
    void accept() {
        // Each connection gets its own strand: its handlers never run concurrently.
        acceptor_.async_accept(
            net::make_strand(ioc_),
            [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                self->on_accept(ec, std::move(socket));
            });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (!acceptor_.is_open()) return;
        if (ec) {
            // E.g. out of file descriptors: pause briefly instead of spinning on the error.
            retry_timer_.expires_after(std::chrono::milliseconds(50));
            retry_timer_.async_wait([self = shared_from_this()](beast::error_code) {
                if (self->acceptor_.is_open()) self->accept();
            });
            return;
        }
        if (tracker_.connections.load() >= options_.max_connections || tracker_.stopping()) {
            refuse_connection(std::move(socket));
        } else {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<HttpSession>(std::move(socket), handler_, options_, tracker_)->start();
        }
        accept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_timer_;
    RequestHandler& handler_;
    const HttpServerOptions& options_;
    RequestTracker& tracker_;
};

std::size_t blocking_threads(const HttpServerOptions& options) {
    return static_cast<std::size_t>(std::max(1, options.blocking_threads));
}

// asio's thread_pool starts its threads itself. One naming job per thread, each held until all
// have begun, so that every thread runs exactly one; done once, not on every job. The latch is
// shared with the jobs: a job may still be leaving arrive_and_wait() when this returns.
void name_pool_threads(net::thread_pool& pool, std::size_t threads, const char* thread_name) {
    auto all_named = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
    for (std::size_t i = 0; i < threads; ++i) {
        net::post(pool, [all_named, thread_name] {
            name_this_thread(thread_name);
            all_named->arrive_and_wait();
        });
    }
    all_named->wait();
}

class BeastHttpServer final : public HttpServer {
  public:
    BeastHttpServer(const HttpServerOptions& options, ServiceApi api)
        : options_(options),
          pool_(blocking_threads(options)),
          ops_pool_(kOpsThreads),
          handler_(
              std::move(api),
              [this](std::function<void()> job) { net::post(pool_, std::move(job)); },
              embedded_openapi_document(),
              [this](std::function<void()> job) { net::post(ops_pool_, std::move(job)); }),
          ioc_(std::max(1, options.threads)) {
        // A command is answered within the request timeout, whatever its store does.
        handler_.set_command_deadline(options.request_timeout);
        name_pool_threads(pool_, blocking_threads(options), "http-blocking");
        name_pool_threads(ops_pool_, kOpsThreads, "http-ops");
    }

    ~BeastHttpServer() override { stop(); }

    Expected<void, std::string> start() {
        listener_ = std::make_shared<Listener>(ioc_, handler_, options_, tracker_);
        auto bound = listener_->bind(options_.host, options_.port);
        if (!bound) return unexpected(bound.error());
        port_ = *bound;
        listener_->start();
        for (int i = 0; i < std::max(1, options_.threads); ++i) {
            threads_.emplace_back([this] { run_io(); });
        }
        return {};
    }

    std::uint16_t port() const override { return port_; }

    void stop() override {
        std::lock_guard lock(stop_mu_);
        if (stopped_) return;
        stopped_ = true;
        if (listener_) listener_->stop();
        // Requests in flight get their answers (their callbacks need the io_context), new ones 503.
        tracker_.stop_and_wait();
        work_.reset();
        ioc_.stop();
        for (auto& t : threads_) t.join();
        threads_.clear();
        pool_.join();
        ops_pool_.join();
    }

  private:
    void run_io() {
        name_this_thread("http-io");
        // A handler that throws must not take the I/O thread with it.
        while (true) {
            try {
                ioc_.run();
                return;
            } catch (const std::exception&) {
            }
        }
    }

    // Destruction runs bottom-up: the io_context (and with it every session) goes before the
    // handler, tracker and options the sessions refer to.
    HttpServerOptions options_;
    RequestTracker tracker_;
    net::thread_pool pool_;
    // /readyz, /metrics and the admin status: bounded work, never queued behind commands and
    // queries that wait on a store.
    static constexpr std::size_t kOpsThreads = 2;
    net::thread_pool ops_pool_;
    RequestHandler handler_;
    net::io_context ioc_;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
        ioc_.get_executor()};
    std::shared_ptr<Listener> listener_;
    std::vector<std::thread> threads_;
    std::uint16_t port_ = 0;
    std::mutex stop_mu_;
    bool stopped_ GUARDED_BY(stop_mu_) = false;
};

}  // namespace

Expected<std::unique_ptr<HttpServer>, std::string> start_http_server(
    const HttpServerOptions& options, ServiceApi api) {
    if (options.store_failure_log) set_store_failure_log(options.store_failure_log);
    try {
        auto server = std::make_unique<BeastHttpServer>(options, std::move(api));
        auto started = server->start();
        if (!started) return unexpected(started.error());
        return std::unique_ptr<HttpServer>(std::move(server));
    } catch (const std::exception& e) {
        return unexpected(std::string(e.what()));
    }
}

}  // namespace ordinal
