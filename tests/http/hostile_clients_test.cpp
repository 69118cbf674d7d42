// Hostile clients against the real `ordinal serve`, run as a child process so that its memory can
// be read from /proc: slowloris, idle connections (also past the connection cap), pipelined
// floods that never read, oversized heads and bodies, invalid UTF-8. A well-behaved client must
// keep getting fast answers meanwhile, and the server's RSS must stay within the bounds
// docs/limits.md "Hostile clients and bounds" states.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_expect.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short on purpose: each attack outlasts them within a test's few seconds.
constexpr auto kRequestTimeout = 1000ms;
constexpr auto kIdleTimeout = 2000ms;
// What a well-behaved client may wait under attack: generous for a loaded 2-core CI machine,
// yet far below any timeout an attacker could make it wait for.
constexpr auto kServedFast = 500ms;

// One client socket that does exactly what the test says and notices when the server hangs up.
// Non-blocking, so an attacker never stalls the test.
class RawConnection {
  public:
    explicit RawConnection(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0) return;
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            connected_ = true;
            return;
        }
        if (errno != EINPROGRESS) return;
        pollfd p{fd_, POLLOUT, 0};
        int err = 0;
        socklen_t len = sizeof err;
        connected_ = ::poll(&p, 1, 2000) == 1 &&
                     ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    ~RawConnection() { close(); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return connected_; }
    bool closed() const { return closed_ || send_failed_; }
    const std::string& received() const { return received_; }

    // Sends what the socket takes of `bytes` within `within`; the count sent. A send error means
    // the server hung up.
    std::size_t send_some(std::string_view bytes, std::chrono::milliseconds within = 0ms) {
        const auto deadline = Clock::now() + within;
        std::size_t sent = 0;
        while (!closed() && sent < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && !would_block()) {
                send_failed_ = true;
                break;
            }
            if (!wait_until(POLLOUT, deadline)) break;
        }
        return sent;
    }

    // Reads whatever arrives within `within`, keeping it; true once the server closed the
    // connection (EOF or reset). Returns early on close. Answers that arrived before a reset are
    // still read, even after a send failed.
    bool closed_by_peer(std::chrono::milliseconds within) {
        const auto deadline = Clock::now() + within;
        char chunk[65536];
        while (!closed_) {
            const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n > 0) {
                received_.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0 || !would_block()) {
                closed_ = true;
                break;
            }
            if (!wait_until(POLLIN, deadline)) break;
        }
        return closed_;
    }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    static bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

    // Waits for `events` until `deadline`; false once the deadline has passed.
    bool wait_until(short events, Clock::time_point deadline) const {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms) return false;
        pollfd p{fd_, events, 0};
        ::poll(&p, 1, static_cast<int>(left.count()));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;       // seen by a read
    bool send_failed_ = false;  // the server hung up while we were sending
    std::string received_;
};

using Connections = std::vector<std::unique_ptr<RawConnection>>;

Connections open_connections(std::uint16_t port, std::size_t n) {
    Connections out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(std::make_unique<RawConnection>(port));
    return out;
}

// Waits until the server has closed every connection, or `within` passed; how many it closed.
// Sanitizers give every allocation redzones and hold freed memory in quarantine (ASan), or
// shadow every byte touched with several bytes of their own (TSan: 663 KiB for a connection at
// the limits, 4.1 times the release budget, 2026-12-07): RSS per connection is then several times
// what a release build spends.
#if defined(__SANITIZE_THREAD__)
constexpr std::size_t kRssFactor = 6;
#elif defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kRssFactor = 4;
#else
constexpr std::size_t kRssFactor = 1;
#endif

std::size_t closed_by_server(Connections& conns, std::chrono::milliseconds within) {
    const auto deadline = Clock::now() + within;
    std::size_t closed = 0;
    for (auto& c : conns) {
        const auto left = std::max(
            0ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
        if (c->closed_by_peer(left)) ++closed;
    }
    return closed;
}

// The complete HTTP/1.1 responses at the start of `bytes` (Content-Length bodies only, which is
// all this server sends): their status codes, in order.
std::vector<int> response_statuses(const std::string& bytes) {
    std::vector<int> out;
    std::size_t pos = 0;
    while (true) {
        const auto head_end = bytes.find("\r\n\r\n", pos);
        if (head_end == std::string::npos) break;
        const std::string head = ascii_lower(bytes.substr(pos, head_end - pos));
        const auto cl = head.find("content-length:");
        const std::size_t length =
            cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15, head.find('\r', cl)));
        if (head_end + 4 + length > bytes.size()) break;  // cut off mid-body
        out.push_back(std::atoi(head.c_str() + 9));
        pos = head_end + 4 + length;
    }
    return out;
}

// Offers `prefix`, then `piece` over and over up to 64 MiB, the way an attacker streams an endless
// head or body: the server must hang up long before it is all sent. The statuses it answered.
std::vector<int> stream_endlessly(std::uint16_t port, const std::string& prefix,
                                  const std::string& piece) {
    constexpr std::size_t kOffered = 64u << 20;
    RawConnection c(port);
    EXPECT_TRUE(c.connected());
    std::size_t sent = c.send_some(prefix);
    for (std::size_t offered = 0; offered < kOffered && !c.closed(); offered += piece.size()) {
        sent += c.send_some(piece, 500ms);
    }
    EXPECT_TRUE(c.closed_by_peer(3s)) << "the server must hang up";
    EXPECT_LT(sent, kOffered) << "the server read all of it";
    return response_statuses(c.received());
}

class HostileClients : public ::testing::Test {
  protected:
    void start(std::vector<std::string> args = {},
               std::chrono::milliseconds request_timeout = kRequestTimeout) {
        args.insert(args.end(), {"--request-timeout-ms", std::to_string(request_timeout.count()),
                                 "--idle-timeout-ms", std::to_string(kIdleTimeout.count())});
        server_ = std::make_unique<ServerProcess>(ORDINAL_BINARY, dir_.path() + "/data",
                                                  dir_.path(), args);
        server_->start();
        good_ = std::make_unique<HttpClient>(port(), "127.0.0.1", 5s);
    }
    void TearDown() override {
        if (server_ && server_->child() && server_->child()->running()) {
            EXPECT_TRUE(server_->terminate().has_value()) << "the server did not stop on SIGTERM";
        }
    }

    std::uint16_t port() const { return server_->port(); }

    // The server's resident memory now.
    std::size_t rss_kib() const {
        std::ifstream in("/proc/" + std::to_string(server_->child()->pid()) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
        }
        ADD_FAILURE() << "no VmRSS for the server";
        return 0;
    }

    // A well-behaved client's round trip on its kept-alive connection; fails the test unless it is
    // answered 200.
    std::chrono::milliseconds probe() {
        const auto t0 = Clock::now();
        const auto r = good_->get("/healthz");
        EXPECT_EQ(r.status, 200) << r;
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    }

    // Starts the server and brings its allocator to its working size, so growth measured from the
    // RSS returned is the attack's.
    std::size_t start_warm() {
        start();
        for (int i = 0; i < 50; ++i) {
            EXPECT_EQ(good_->get("/openapi.json").status, 200);
            probe();
        }
        return rss_kib();
    }
    std::size_t grown_kib(std::size_t since) const {
        const auto now = rss_kib();
        return now > since ? now - since : 0;
    }

    ScratchDir dir_{"ordinal-hostile"};
    std::unique_ptr<ServerProcess> server_;
    std::unique_ptr<HttpClient> good_;
};

// More sockets than the process may open would fail the test for the wrong reason: lift the soft
// limit, and use fewer connections where even the hard limit is low.
std::size_t affordable_connections(std::size_t wanted) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    const auto spare = lim.rlim_cur > 200 ? static_cast<std::size_t>(lim.rlim_cur - 200) : 0;
    return std::min(wanted, spare);
}

TEST_F(HostileClients, SlowlorisIsCutOffAtTheRequestTimeoutWhileOthersAreServedFast) {
    start();
    // Half dribble an endless head, half a declared body: a byte each every 100 ms, far slower
    // than either needs to finish within the request timeout.
    auto slow = open_connections(port(), 100);
    for (std::size_t i = 0; i < slow.size(); ++i) {
        ASSERT_TRUE(slow[i]->connected());
        slow[i]->send_some(i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: "
                                 : "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                   "application/json\r\nContent-Length: 1000\r\n\r\n{");
    }
    const auto started = Clock::now();
    auto slowest = 0ms;
    std::size_t closed = 0;
    while (closed < slow.size() && Clock::now() - started < 3 * kRequestTimeout) {
        closed = 0;
        for (auto& c : slow) {
            c->send_some("a");
            if (c->closed_by_peer(0ms)) ++closed;
        }
        slowest = std::max(slowest, probe());
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(closed, slow.size()) << "slow requests must be cut off after the request timeout";
    EXPECT_GE(Clock::now() - started, kRequestTimeout - 100ms) << "cut off before the timeout";
    EXPECT_LT(slowest, kServedFast) << "a well-behaved client waited behind slowloris";
    for (auto& c : slow) EXPECT_EQ(c->received(), "") << "a cut-off request gets no answer";
}

TEST_F(HostileClients, ThousandIdleConnectionsDoNotStarveOthersAndAreClosedAfterTheFirstByteWait) {
    const auto rss_before = start_warm();
    const std::size_t n = affordable_connections(1000);
    ASSERT_GE(n, 500u) << "too few file descriptors for this test";
    auto idle = open_connections(port(), n);
    for (auto& c : idle) ASSERT_TRUE(c->connected());
    auto slowest = 0ms;
    for (int i = 0; i < 20; ++i) slowest = std::max(slowest, probe());
    EXPECT_LT(slowest, kServedFast);
    // An idle connection holds one small read buffer and the session itself.
    const auto per_connection_kib = grown_kib(rss_before) / n;
    EXPECT_LE(per_connection_kib, 16u * kRssFactor)
        << "RSS " << rss_before << " KiB -> " << rss_kib() << " KiB";
    // A connection that never sends gets no more than the request timeout for its first byte.
    EXPECT_EQ(closed_by_server(idle, kRequestTimeout + 2s), n);
    for (auto& c : idle) EXPECT_EQ(c->received(), "");
    EXPECT_LT(probe(), kServedFast);
}

TEST_F(HostileClients, ConnectionsPastTheCapAreRefusedAndTheServerRecoversWhenTheyGo) {
    constexpr std::size_t kCap = 50;
    // Held connections must outlast the test's steps, even on a slow machine.
    start({"--max-connections", std::to_string(kCap)}, 10s);
    good_.reset();  // the well-behaved client must not hold a slot the test counts on
    std::this_thread::sleep_for(200ms);
    auto idle = open_connections(port(), kCap);
    for (auto& c : idle) ASSERT_TRUE(c->connected());
    std::this_thread::sleep_for(200ms);  // let the server accept them all

    auto excess = open_connections(port(), 20);
    for (auto& c : excess) {
        ASSERT_TRUE(c->connected());  // the kernel completes the handshake; the server refuses
        EXPECT_TRUE(c->closed_by_peer(2s)) << "an excess connection must be closed";
        const auto statuses = response_statuses(c->received());
        ASSERT_EQ(statuses.size(), 1u) << c->received();
        EXPECT_EQ(statuses[0], 503);
        EXPECT_NE(c->received().find("\"overloaded\""), std::string::npos) << c->received();
        EXPECT_NE(ascii_lower(c->received()).find("retry-after: 1"), std::string::npos);
    }
    for (auto& c : idle) EXPECT_FALSE(c->closed_by_peer(0ms)) << "held connections are kept";

    idle.clear();  // the attacker goes away: its slots come back at once
    const auto gone = Clock::now();
    int status = 0;
    while (status != 200 && Clock::now() - gone < 2s) {
        HttpClient c(port(), "127.0.0.1", 2s);
        status = c.get("/healthz").status;
        if (status != 200) std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(status, 200);
}

TEST_F(HostileClients, PipelinedFloodThatNeverReadsIsCutOffWithBoundedMemory) {
    const auto rss_before = start_warm();
    // 4,000 pipelined requests whose answers add up to ~95 MB (half are the 47 KB OpenAPI
    // document): far more than socket buffers hold, so the server must stall on the unread
    // answers, and must neither read on nor queue them.
    std::string flood;
    for (int i = 0; i < 2000; ++i) {
        flood += "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
        flood += "GET /no-such-path HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    RawConnection c(port());
    ASSERT_TRUE(c.connected());
    const auto sent = c.send_some(flood, 500ms);
    auto slowest = 0ms;
    std::size_t peak_growth = 0;
    const auto started = Clock::now();
    while (Clock::now() - started < 2 * kRequestTimeout) {
        slowest = std::max(slowest, probe());
        peak_growth = std::max(peak_growth, grown_kib(rss_before));
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_LT(slowest, kServedFast) << "a well-behaved client waited behind the flood";
    EXPECT_LT(peak_growth, 16u * 1024) << "RSS " << rss_before << " KiB + " << peak_growth;

    // Reading now finds the answers that were in flight, complete and in order, then the close:
    // the server gave up on a client that took none for longer than the request timeout.
    EXPECT_TRUE(c.closed_by_peer(5s));
    const auto statuses = response_statuses(c.received());
    ASSERT_FALSE(statuses.empty());
    EXPECT_LT(statuses.size(), 4000u) << "the unread flood was answered in full";
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        ASSERT_EQ(statuses[i], i % 2 ? 404 : 200) << "answer " << i << " is out of order";
    }
    EXPECT_LE(sent, flood.size());
    EXPECT_LT(probe(), kServedFast);
}

TEST_F(HostileClients, PipelinedRequestsOfAClientThatReadsAreAllAnsweredInOrder) {
    start();
    std::string burst;
    for (int i = 0; i < 500; ++i) {
        burst += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        burst += "GET /no-such-path HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    HttpClient c(port(), "127.0.0.1", 5s);
    c.send_raw(burst);
    for (int i = 0; i < 1000; ++i) {
        const auto r = c.read_response();
        ASSERT_EQ(r.status, i % 2 ? 404 : 200) << "answer " << i << ": " << r;
    }
}

TEST_F(HostileClients, OversizedHeadsAre431AndAreNotReadInFull) {
    const auto rss_before = start_warm();
    // One endless header line: the answer may be lost to the reset of a hang-up mid-send.
    const auto endless = stream_endlessly(
        port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(1 << 20, 'a'));
    if (!endless.empty()) {
        EXPECT_EQ(endless[0], 431);
    }
    // Many small fields, and a request line past the limit.
    std::string fields = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 5000; ++i) fields += "a: b\r\n";
    for (const auto& head : {fields + "\r\n", "GET /" + std::string(32 * 1024, 'p') +
                                                  " HTTP/1.1\r\nHost: x\r\n\r\n"}) {
        HttpClient c(port(), "127.0.0.1", 5s);
        try {
            c.send_raw(head);
            EXPECT_TRUE(IsError(c.read_response(), 431, "request_header_fields_too_large"));
        } catch (const HttpError&) {
            // Closing is an acceptable answer too.
        }
    }
    EXPECT_LT(grown_kib(rss_before), 8u * 1024);
    EXPECT_LT(probe(), kServedFast);
}

TEST_F(HostileClients, OversizedBodiesAre413AndAreNotReadInFull) {
    const auto rss_before = start_warm();
    const std::string chunk(1 << 20, 'x');
    const std::string post =
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
    // Declared: refused from the header alone. Chunked: once the decoded body passes the limit.
    for (const auto& [head, piece] :
         {std::pair{post + "Content-Length: 67108864\r\n\r\n", chunk},
          std::pair{post + "Transfer-Encoding: chunked\r\n\r\n", "100000\r\n" + chunk + "\r\n"}}) {
        const auto statuses = stream_endlessly(port(), head, piece);
        ASSERT_EQ(statuses.size(), 1u) << head;
        EXPECT_EQ(statuses[0], 413);
    }
    EXPECT_LT(grown_kib(rss_before), 8u * 1024);
    EXPECT_LT(probe(), kServedFast);
}

TEST_F(HostileClients, RequestsAtTheLimitsCostBoundedMemoryPerConnection) {
    const auto rss_before = start_warm();
    // The costliest request a connection can hold: a head at the byte and field limits, and a
    // body one byte short of the limit, never finished.
    std::string head =
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 65536\r\n";
    for (int i = 10; i < 107; ++i)
        head += "X-F" + std::to_string(i) + ": " + std::string(154, 'v') + "\r\n";
    head += "\r\n";
    ASSERT_GT(head.size(), 15u * 1024);
    ASSERT_LE(head.size(), 16u * 1024);
    const std::string body(65535, 'x');
    constexpr std::size_t kHeld = 200;
    auto held = open_connections(port(), kHeld);
    for (auto& c : held) {
        ASSERT_TRUE(c->connected());
        ASSERT_EQ(c->send_some(head + body, 2s), head.size() + body.size());
    }
    // Tiny fields are cheap on the wire but not parsed: past the field limit they are refused.
    std::string tiny = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    while (tiny.size() < 16 * 1024 - 10) tiny += "a:b\r\n";
    auto refused = open_connections(port(), kHeld);
    for (auto& c : refused) c->send_some(tiny + "\r\n", 2s);
    EXPECT_EQ(closed_by_server(refused, 10s), kHeld);
    for (auto& c : refused) {
        const auto statuses = response_statuses(c->received());
        ASSERT_EQ(statuses.size(), 1u) << c->received();
        EXPECT_EQ(statuses[0], 431);
    }
    EXPECT_LT(probe(), kServedFast);
    const auto per_connection_kib = grown_kib(rss_before) / kHeld;
    EXPECT_LE(per_connection_kib, 160u * kRssFactor)
        << "RSS " << rss_before << " KiB -> " << rss_kib() << " KiB for " << kHeld;
    EXPECT_EQ(closed_by_server(held, kRequestTimeout + 2s), kHeld);
    for (auto& c : held) EXPECT_EQ(c->received(), "") << "a request at the limits is not refused";
}

TEST_F(HostileClients, InvalidUtf8AnywhereIs400AndWritesNothing) {
    start();
    OrdinalApi api(port());
    const std::string bad = "\xC3\x28";  // a lead byte followed by ASCII
    const std::string overlong = "\xC0\xAF";
    const std::string product = R"({"name":"n","currency":"EUR","priceMinor":1,"stock":1})";
    const std::string user = random_uuid();
    std::vector<HttpResponse> answers;
    // In JSON strings.
    answers.push_back(
        api.command("PUT", "/v1/products/" + unique_sku(),
                    R"({"name":"caf)" + bad + R"(","currency":"EUR","priceMinor":1,"stock":1})",
                    random_uuid()));
    answers.push_back(api.command("POST", "/v1/orders",
                                  R"({"userId":")" + user +
                                      R"(","currency":"EUR","items":[{"sku":"s)" + overlong +
                                      R"(","qty":1}]})",
                                  random_uuid()));
    // In paths, percent-encoded and raw.
    answers.push_back(
        api.command("PUT", "/v1/products/sku" + url_encode(bad), product, random_uuid()));
    answers.push_back(api.command("PUT", "/v1/products/sku" + bad, product, random_uuid()));
    // In headers.
    answers.push_back(api.http().request("PUT", "/v1/products/" + unique_sku(), product,
                                         {{"Idempotency-Key", "0190a1b2-0000-7000-8000-" + bad}}));
    answers.push_back(
        api.http().get("/v1/products/" + unique_sku(), {{"X-Consistency-Token", "ct1." + bad}}));
    answers.push_back(
        api.http().get("/v1/products/" + unique_sku(), {{"X-Consistency-Wait-Ms", "1" + bad}}));
    // In a query parameter.
    answers.push_back(api.http().get("/v1/users/" + user + "/orders?cursor=" + url_encode(bad)));
    for (const auto& r : answers) {
        EXPECT_EQ(r.status, 400) << r;
        EXPECT_TRUE(IsErrorStatus(r, 400)) << "error bodies are valid UTF-8 JSON";
    }
    // Where the contract says a path that cannot name a resource is 404, so it is for bytes that
    // are not UTF-8.
    EXPECT_TRUE(IsErrorStatus(api.http().get("/v1/products/sku" + url_encode(bad)), 404));
    EXPECT_TRUE(IsErrorStatus(api.http().get("/v1/orders/" + url_encode(bad)), 404));
    // A media type that is not UTF-8 is not JSON.
    EXPECT_TRUE(
        IsErrorStatus(api.http().request("PUT", "/v1/products/" + unique_sku(), product,
                                         {{"Content-Type", "application/json; charset=" + bad},
                                          {"Idempotency-Key", random_uuid()}}),
                      415));

    // Nothing reached the write store.
    const auto status = api.http().get("/v1/admin/status");
    ASSERT_EQ(status.status, 200) << status;
    EXPECT_EQ(status.json_body().at("outbox").at("lastSeq"), 0) << status;
}

}  // namespace
}  // namespace ordinal::test
