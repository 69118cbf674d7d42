#pragma once
// The HTTP/1.1 front end (docs/design.md "HTTP API v1"). Boost.Beast stays inside this folder.
//
// Model: `threads` I/O threads run one io_context; every connection has its own strand, so a
// connection's handlers never run concurrently and no thread is tied to a connection. Blocking
// calls (read store queries, idempotency look-ups in Redis, readiness, metrics, rebuild) run on a
// separate pool of `blocking_threads`, never on the I/O threads; a command with an in-memory
// idempotency cache is queued for the write store from the I/O thread (no hand-off). Requests on
// one connection are handled one at a time, so pipelined requests are answered in order.
//
// Protection against slow or hostile clients: a request (first byte to last body byte) must
// arrive within `request_timeout`; an idle keep-alive connection is closed after `idle_timeout`
// (a new connection gets min(idle, request timeout) for its first byte);
// a response must be taken within `request_timeout`. Headers over `max_header_bytes` or
// `max_header_fields` get 431, bodies over `max_body_bytes` get 413, both with a JSON body, and the
// connection is closed. Past `max_connections` open connections, a new connection is answered 503
// and closed. A connection holds at most one request and one answer at a time: pipelined requests
// wait in the kernel's socket buffer until the answer before them was taken.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "domain/expected.h"
#include "ports/service_api.h"

namespace ordinal {

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
    int threads = 2;
    int blocking_threads = 4;
    std::size_t max_connections = 10000;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    // Each parsed field costs far more memory than its bytes on the wire (a 4-byte "a:b" line
    // takes ~80 bytes): without this, 16 KiB of tiny fields would hold ~256 KiB per connection.
    std::size_t max_header_fields = 100;
    std::chrono::milliseconds request_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000};
    // Store failures behind a 503 (their messages may name SQL or paths: for the operator's log,
    // never for the client); at most a line a second.
    std::function<void(const std::string&)> store_failure_log;
};

class HttpServer {
  public:
    virtual ~HttpServer() = default;         // stops the server
    virtual std::uint16_t port() const = 0;  // the bound port
    // Stops accepting, answers requests that arrive from now on with 503 and closes their
    // connections, waits for the requests in flight to be answered (a consistency wait lasts at
    // most 10 s), then stops the I/O threads. Call before the services in ServiceApi go away.
    // Idempotent; must not be called from a callback of the server itself.
    virtual void stop() = 0;
};

// Binds host:port, starts the I/O and blocking threads and returns. Errors (bad address, port in
// use) are human-readable.
Expected<std::unique_ptr<HttpServer>, std::string> start_http_server(
    const HttpServerOptions& options, ServiceApi api);

}  // namespace ordinal
