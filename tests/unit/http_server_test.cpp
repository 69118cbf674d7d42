// Connection handling of the Beast server (adapters/http/http_server.h) over real sockets on
// port 0: keep-alive, pipelining, size limits, timeouts, the connection limit and stop().
#include "adapters/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/command_service.h"
#include "core/system_clock.h"
#include "support/fake_stores.h"
#include "support/faulty_write_store.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;

struct RawResponse {
    int status = 0;
    std::string head;
    std::string body;
};

// A deliberately dumb blocking client, so the test controls every byte and every pause.
class RawClient {
  public:
    explicit RawClient(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return connected_; }

    bool send(std::string_view data) {
        while (!data.empty()) {
            const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // One response with a Content-Length body (all this server sends); nullopt on close/timeout.
    std::optional<RawResponse> read_response() {
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) return std::nullopt;
        }
        RawResponse r;
        r.head = buf_.substr(0, end + 4);
        buf_.erase(0, end + 4);
        r.status = std::atoi(r.head.c_str() + 9);
        std::size_t length = 0;
        const auto cl = lower(r.head).find("content-length:");
        if (cl != std::string::npos) length = std::strtoul(r.head.c_str() + cl + 15, nullptr, 10);
        while (buf_.size() < length) {
            if (!fill()) return std::nullopt;
        }
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
        return r;
    }

    // True when the server closes the connection (EOF or reset) before `within` passes.
    bool closed_by_peer(std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            char c[256];
            const auto n = ::recv(fd_, c, sizeof c, 0);
            if (n == 0) return true;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;
        }
        return false;
    }

  private:
    static std::string lower(std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }
    bool fill() {
        char chunk[4096];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

class HttpServerTest : public ::testing::Test {
  protected:
    void start(HttpServerOptions options = {}, ServiceApi api = {}) {
        options.port = 0;
        api.metrics = &metrics_;
        auto started = start_http_server(options, api);
        ASSERT_TRUE(started) << started.error();
        server_ = std::move(*started);
        ASSERT_NE(server_->port(), 0);
    }
    std::uint16_t port() const { return server_->port(); }

    MetricsRegistry metrics_;
    std::unique_ptr<HttpServer> server_;
};

constexpr const char* kGetHealth = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
    start();
    RawClient c(port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(
        c.send(std::string(kGetHealth) + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" + kGetHealth));
    auto a = c.read_response();
    auto b = c.read_response();
    auto d = c.read_response();
    ASSERT_TRUE(a && b && d);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(a->body, R"({"status":"ok"})");
    EXPECT_EQ(b->status, 404);
    EXPECT_NE(b->head.find("application/json"), std::string::npos);
    EXPECT_EQ(d->status, 200);
    // Still open for more.
    ASSERT_TRUE(c.send(kGetHealth));
    auto e = c.read_response();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 200);
}

TEST_F(HttpServerTest, Http10ClosesAfterTheAnswer) {
    start();
    RawClient c(port());
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
    auto a = c.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
    start();
    RawClient c(port());
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') +
                       "\r\n\r\n"));
    auto a = c.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 431);
    EXPECT_NE(a->body.find("\"error\""), std::string::npos);
    EXPECT_TRUE(c.closed_by_peer(3s));
}

TEST_F(HttpServerTest, HeaderFieldsPastTheCountLimitGet431) {
    HttpServerOptions o;
    o.max_header_fields = 10;
    start(o);
    const auto request_with = [](int fields) {
        std::string r = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
        for (int i = 1; i < fields; ++i) r += "a: b\r\n";
        return r + "\r\n";
    };
    RawClient at_limit(port());
    ASSERT_TRUE(at_limit.send(request_with(10)));
    auto a = at_limit.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    RawClient past(port());
    ASSERT_TRUE(past.send(request_with(11)));
    auto b = past.read_response();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, 431);
    EXPECT_NE(b->body.find("10 fields"), std::string::npos) << b->body;
    EXPECT_TRUE(past.closed_by_peer(3s));
}

TEST_F(HttpServerTest, OversizedBodiesGet413) {
    start();
    {
        RawClient c(port());
        const std::string body(70000, ' ');
        ASSERT_TRUE(
            c.send("POST /v1/orders HTTP/1.1\r\nHost: t\r\nContent-Type: "
                   "application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n"));
        c.send(body);  // the server may already have answered and shut its side
        auto a = c.read_response();
        ASSERT_TRUE(a);
        EXPECT_EQ(a->status, 413);
        EXPECT_NE(a->body.find("payload_too_large"), std::string::npos);
    }
    {
        // Chunked: the limit applies to the decoded body as it arrives.
        RawClient c(port());
        std::string chunked =
            "POST /v1/orders HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, ' ') + "\r\n";
        chunked += "0\r\n\r\n";
        c.send(chunked);
        auto a = c.read_response();
        ASSERT_TRUE(a);
        EXPECT_EQ(a->status, 413);
    }
}

TEST_F(HttpServerTest, GarbageGets400) {
    start();
    RawClient c(port());
    ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
    auto a = c.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 400);
    EXPECT_NE(a->body.find("bad_request"), std::string::npos);
}

TEST_F(HttpServerTest, ExpectContinue) {
    start();
    RawClient c(port());
    ASSERT_TRUE(
        c.send("POST /v1/orders HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
    auto interim = c.read_response();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send("{}"));
    auto a = c.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 404);  // no command service behind this test server: operations only
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
    HttpServerOptions o;
    o.idle_timeout = 200ms;
    start(o);
    RawClient silent(port());
    EXPECT_TRUE(silent.closed_by_peer(3s));
    RawClient kept(port());
    ASSERT_TRUE(kept.send(kGetHealth));
    ASSERT_TRUE(kept.read_response());
    EXPECT_TRUE(kept.closed_by_peer(3s));
}

TEST_F(HttpServerTest, SlowRequestsAreCutOffWithoutBlockingOthers) {
    HttpServerOptions o;
    o.request_timeout = 400ms;
    start(o);
    RawClient slow(port());
    ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\n"));
    // Others are served while the slow client dribbles.
    RawClient other(port());
    ASSERT_TRUE(other.send(kGetHealth));
    auto a = other.read_response();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200);
    const auto started = std::chrono::steady_clock::now();
    bool closed = false;
    while (std::chrono::steady_clock::now() - started < 3s) {
        if (!slow.send("X-Drip: 1\r\n")) {
            closed = true;
            break;
        }
        if (slow.closed_by_peer(100ms)) {
            closed = true;
            break;
        }
    }
    EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, ConnectionsPastTheLimitGet503) {
    HttpServerOptions o;
    o.max_connections = 1;
    start(o);
    RawClient first(port());
    ASSERT_TRUE(first.send(kGetHealth));
    ASSERT_TRUE(first.read_response());
    RawClient second(port());
    auto refused = second.read_response();
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503);
    EXPECT_NE(refused->body.find("overloaded"), std::string::npos);
    // The first connection is unaffected.
    ASSERT_TRUE(first.send(kGetHealth));
    auto again = first.read_response();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
}

TEST_F(HttpServerTest, RequestsAreCountedInMetrics) {
    start();
    RawClient c(port());
    ASSERT_TRUE(c.send(std::string(kGetHealth) + "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(c.read_response());
    auto m = c.read_response();
    ASSERT_TRUE(m);
    EXPECT_NE(m->head.find("text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(m->body.find(
                  R"(ordinal_http_requests_total{method="GET",route="/healthz",status="200"} 1)"),
              std::string::npos);
}

TEST_F(HttpServerTest, StopClosesTheListenerAndIsIdempotent) {
    start();
    const auto p = port();
    {
        RawClient open_connection(p);
        ASSERT_TRUE(open_connection.send(kGetHealth));
        ASSERT_TRUE(open_connection.read_response());
        server_->stop();
        server_->stop();
    }
    RawClient after(p);
    EXPECT_FALSE(after.connected() && after.send(kGetHealth) && after.read_response());
}

TEST_F(HttpServerTest, BindErrorsAreReported) {
    HttpServerOptions o;
    o.host = "not-an-address";
    auto started = start_http_server(o, ServiceApi{});
    ASSERT_FALSE(started);
    EXPECT_NE(started.error().find("not-an-address"), std::string::npos);

    start();
    HttpServerOptions same;
    same.port = port();
    auto taken = start_http_server(same, ServiceApi{});
    EXPECT_FALSE(taken);
}

// A command whose store never answers is answered 503 unavailable with Retry-After once the
// request timeout has passed, not left hanging; the store's late outcome changes nothing.
TEST_F(HttpServerTest, ACommandTheStoreNeverSettlesIsAnswered503AtTheRequestTimeout) {
    test_support::HangingWriteStore store;
    test_support::NoCache cache;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    CommandService commands(store, cache, metrics_, ids, CommandServiceOptions{});
    test_support::EmptyReadStore reads;
    ServiceApi api;
    api.commands = &commands;
    api.reads = &reads;
    HttpServerOptions o;
    o.request_timeout = 600ms;
    start(o, api);
    struct StopFirst {  // the server goes before the services it was given, even on failure
        std::unique_ptr<HttpServer>& server;
        ~StopFirst() {
            if (server) server->stop();
        }
    } stop_first{server_};
    RawClient c(port());
    const std::string body = R"({"name":"n","currency":"EUR","priceMinor":1,"stock":1})";
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_TRUE(
        c.send("PUT /v1/products/SKU-1 HTTP/1.1\r\nHost: t\r\nContent-Type: "
               "application/json\r\nIdempotency-Key: "
               "0190a1b2-0000-7000-8000-000000000001\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body));
    auto a = c.read_response();
    const auto took = std::chrono::steady_clock::now() - sent;
    ASSERT_TRUE(a) << "no answer: the command hangs with its store";
    EXPECT_EQ(a->status, 503);
    EXPECT_NE(a->body.find("\"unavailable\""), std::string::npos) << a->body;
    EXPECT_NE(a->head.find("Retry-After: 1"), std::string::npos) << a->head;
    EXPECT_GE(took, 550ms);
    EXPECT_LT(took, 3s);
    store.settle_all();
    // The connection serves on; the late outcome wrote nothing to it.
    ASSERT_TRUE(c.send(kGetHealth));
    auto next = c.read_response();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
}

}  // namespace
}  // namespace ordinal
