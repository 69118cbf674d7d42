#pragma once
// A small blocking HTTP/1.1 client over POSIX sockets, for black-box tests of the running
// server. Keep-alive, Content-Length and chunked bodies, pipelining through send_raw() and
// read_response(). Every socket operation is bounded by the client's timeout.
//
// Header-only on purpose: the test tiers compile only tests/<tier>/*.cpp, so support code
// lives in headers (everything here is `inline`).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/answer_log.h"

namespace ordinal::test {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A network failure. `phase` tells whether the request may have reached the server: a connect
// failure means it did not; a send or receive failure means it may have.
class HttpError : public std::runtime_error {
  public:
    enum class Phase { connect, send, receive };
    HttpError(Phase phase, const std::string& what) : std::runtime_error(what), phase_(phase) {}
    Phase phase() const { return phase_; }

  private:
    Phase phase_;
};

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ascii_lower(a) == ascii_lower(b);
}

struct HttpResponse {
    std::string version;  // "HTTP/1.1"
    int status = 0;
    std::string reason;
    Headers headers;
    std::string body;

    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (iequals(k, name)) return v;
        }
        return std::nullopt;
    }
    std::size_t header_count(std::string_view name) const {
        return static_cast<std::size_t>(std::count_if(
            headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
    }
    // Throws std::runtime_error (with the body in the message) if the body is not JSON.
    json json_body() const {
        try {
            return json::parse(body);
        } catch (const std::exception& e) {
            throw std::runtime_error("response body is not JSON (" + std::string(e.what()) +
                                     "): " + describe());
        }
    }
    bool is_json() const { return json::accept(body); }

    std::string describe() const {
        std::string out = std::to_string(status) + " " + reason;
        for (const auto& [k, v] : headers) out += "\n  " + k + ": " + v;
        out += "\n  body: " + (body.size() > 2000 ? body.substr(0, 2000) + "...(" +
                                                        std::to_string(body.size()) + " bytes)"
                                                  : body);
        return out;
    }
};

inline std::ostream& operator<<(std::ostream& os, const HttpResponse& r) {
    return os << r.describe();
}

class HttpClient {
  public:
    using Clock = std::chrono::steady_clock;

    explicit HttpClient(std::uint16_t port, std::string host = "127.0.0.1",
                        std::chrono::milliseconds timeout = std::chrono::seconds(15))
        : host_(std::move(host)), port_(port), timeout_(timeout) {}
    ~HttpClient() { close(); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpClient(HttpClient&& o) noexcept
        : host_(std::move(o.host_)),
          port_(o.port_),
          timeout_(o.timeout_),
          fd_(std::exchange(o.fd_, -1)),
          buf_(std::move(o.buf_)),
          connections_opened_(o.connections_opened_),
          sent_(std::move(o.sent_)),
          body_left_(o.body_left_),
          sent_lost_(o.sent_lost_),
          unanswered_(std::move(o.unanswered_)) {}

    void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
    std::chrono::milliseconds timeout() const { return timeout_; }
    std::uint16_t port() const { return port_; }
    bool connected() const { return fd_ >= 0; }
    int connections_opened() const { return connections_opened_; }

    // One request on the kept-alive connection (opened or re-opened as needed, before sending;
    // a request is never re-sent). A Content-Type of application/json is added when there is a
    // body and the caller gave none; give {"Content-Type", ""} to send no Content-Type at all.
    HttpResponse request(std::string_view method, std::string_view target,
                         std::string_view body = {}, const Headers& headers = {}) {
        std::string raw = build_request(method, target, body, headers);
        ensure_fresh_connection();
        send_raw(raw);
        return read_response(method == "HEAD");
    }

    HttpResponse get(std::string_view target, const Headers& headers = {}) {
        return request("GET", target, {}, headers);
    }

    std::string build_request(std::string_view method, std::string_view target,
                              std::string_view body, const Headers& headers) const {
        std::string raw;
        raw.reserve(256 + body.size());
        raw.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
        bool has_host = false, has_type = false, has_length = false;
        for (const auto& [k, v] : headers) {
            if (iequals(k, "Host")) has_host = true;
            if (iequals(k, "Content-Length")) has_length = true;
            if (iequals(k, "Content-Type")) {
                has_type = true;
                if (v.empty()) continue;  // "send no Content-Type"
            }
            raw.append(k).append(": ").append(v).append("\r\n");
        }
        if (!has_host)
            raw.append("Host: ")
                .append(host_)
                .append(":")
                .append(std::to_string(port_))
                .append("\r\n");
        if (!has_type && !body.empty()) raw.append("Content-Type: application/json\r\n");
        if (!has_length &&
            (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
            raw.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
        }
        raw.append("\r\n").append(body);
        return raw;
    }

    // Writes bytes as they are (connecting first if needed).
    void send_raw(std::string_view bytes) {
        if (fd_ < 0) connect_now();
        const auto deadline = Clock::now() + timeout_;
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            wait_for(POLLOUT, deadline, HttpError::Phase::send);
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
                fail(HttpError::Phase::send, std::string("send: ") + std::strerror(errno));
            }
            sent += static_cast<std::size_t>(n);
        }
        note_sent(bytes);
    }

    // Reads the next response on the connection (1xx responses are skipped).
    HttpResponse read_response(bool head_request = false) {
        if (fd_ < 0 && buf_.empty())
            fail(HttpError::Phase::receive, "read_response: not connected");
        const auto deadline = Clock::now() + timeout_;
        while (true) {
            HttpResponse r = read_one(head_request, deadline);
            if (r.status >= 100 && r.status < 200) continue;
            record_answer(r);
            return r;
        }
    }

    // True if the server closed the connection (EOF seen within `within`).
    bool wait_closed_by_peer(std::chrono::milliseconds within) {
        if (fd_ < 0) return true;
        const auto deadline = Clock::now() + within;
        char tmp[4096];
        while (Clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                    .count();
            const int rc = ::poll(&p, 1, static_cast<int>(std::max<long long>(left, 0)));
            if (rc < 0 && errno == EINTR) continue;
            if (rc <= 0) return false;
            const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close();
                return true;
            }
            if (n > 0) buf_.append(tmp, static_cast<std::size_t>(n));
        }
        return false;
    }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        buf_.clear();
    }

  private:
    [[noreturn]] void fail(HttpError::Phase phase, const std::string& what) {
        close();
        throw HttpError(phase, what + " (127.0.0.1:" + std::to_string(port_) + ")");
    }

    void wait_for(short events, Clock::time_point deadline, HttpError::Phase phase) {
        while (true) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                    .count();
            if (left <= 0) fail(phase, "timed out");
            pollfd p{fd_, events, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(left));
            if (rc < 0) {
                if (errno == EINTR) continue;
                fail(phase, std::string("poll: ") + std::strerror(errno));
            }
            if (rc == 0) fail(phase, "timed out");
            return;  // ready, or an error/hangup the next call reports
        }
    }

    void connect_now() {
        close();
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd_ < 0)
            fail(HttpError::Phase::connect, std::string("socket: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port_);
        if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1)
            fail(HttpError::Phase::connect, "bad host " + host_);
        sent_.clear();
        body_left_ = 0;
        sent_lost_ = false;
        unanswered_.clear();
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            if (errno != EINPROGRESS)
                fail(HttpError::Phase::connect, std::string("connect: ") + std::strerror(errno));
            wait_for(POLLOUT, Clock::now() + timeout_, HttpError::Phase::connect);
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0)
                fail(HttpError::Phase::connect, std::string("connect: ") + std::strerror(err));
        }
        ++connections_opened_;
    }

    // Reconnects if the kept-alive connection was closed by the server (or has stray bytes).
    void ensure_fresh_connection() {
        if (fd_ < 0) {
            connect_now();
            return;
        }
        if (!buf_.empty()) {
            connect_now();
            return;
        }
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0) connect_now();  // EOF, reset or unexpected bytes: start over
    }

    // Appends at least one byte to buf_, or fails.
    void fill(Clock::time_point deadline) {
        if (fd_ < 0)
            fail(HttpError::Phase::receive, "connection closed before a complete response");
        char tmp[16384];
        while (true) {
            wait_for(POLLIN, deadline, HttpError::Phase::receive);
            const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n > 0) {
                buf_.append(tmp, static_cast<std::size_t>(n));
                return;
            }
            if (n == 0) {
                ::close(fd_);
                fd_ = -1;
                throw HttpError(HttpError::Phase::receive,
                                "connection closed by the server (" + std::to_string(port_) + ")");
            }
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            fail(HttpError::Phase::receive, std::string("recv: ") + std::strerror(errno));
        }
    }

    static std::string take_line(const std::string& s, std::size_t& pos) {
        const auto eol = s.find("\r\n", pos);
        std::string line = s.substr(pos, eol - pos);
        pos = eol + 2;
        return line;
    }

    HttpResponse read_one(bool head_request, Clock::time_point deadline) {
        std::size_t head_end;
        while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (buf_.size() > 1 << 20) fail(HttpError::Phase::receive, "response head too large");
            try {
                fill(deadline);
            } catch (const HttpError&) {
                buf_.clear();
                throw;
            }
        }
        const std::string head = buf_.substr(0, head_end + 2);
        buf_.erase(0, head_end + 4);
        HttpResponse r;
        std::size_t pos = 0;
        const std::string status_line = take_line(head, pos);
        {
            const auto sp1 = status_line.find(' ');
            if (sp1 == std::string::npos)
                fail(HttpError::Phase::receive, "bad status line: " + status_line);
            r.version = status_line.substr(0, sp1);
            const auto sp2 = status_line.find(' ', sp1 + 1);
            r.status = std::atoi(status_line.substr(sp1 + 1, sp2 - sp1 - 1).c_str());
            if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
        }
        while (pos < head.size()) {
            const std::string line = take_line(head, pos);
            if (line.empty()) break;
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            const auto b = value.find_first_not_of(" \t");
            const auto e = value.find_last_not_of(" \t");
            value = b == std::string::npos ? std::string() : value.substr(b, e - b + 1);
            r.headers.emplace_back(line.substr(0, colon), value);
        }
        const bool no_body = head_request || (r.status >= 100 && r.status < 200) ||
                             r.status == 204 || r.status == 304;
        const auto te = r.header("Transfer-Encoding");
        const auto cl = r.header("Content-Length");
        if (no_body) {
            // nothing
        } else if (te && ascii_lower(*te).find("chunked") != std::string::npos) {
            read_chunked(r, deadline);
        } else if (cl) {
            const std::size_t n = static_cast<std::size_t>(std::stoull(*cl));
            while (buf_.size() < n) fill(deadline);
            r.body = buf_.substr(0, n);
            buf_.erase(0, n);
        } else {
            // Delimited by close.
            try {
                while (true) fill(deadline);
            } catch (const HttpError&) {
            }
            r.body = std::move(buf_);
            buf_.clear();
            close();
        }
        const auto conn = r.header("Connection");
        const bool close_now =
            (conn && ascii_lower(*conn).find("close") != std::string::npos) ||
            (r.version == "HTTP/1.0" &&
             !(conn && ascii_lower(*conn).find("keep-alive") != std::string::npos));
        if (close_now && buf_.empty()) close();
        return r;
    }

    void read_chunked(HttpResponse& r, Clock::time_point deadline) {
        while (true) {
            std::size_t eol;
            while ((eol = buf_.find("\r\n")) == std::string::npos) fill(deadline);
            const std::size_t size = std::stoull(buf_.substr(0, eol), nullptr, 16);
            buf_.erase(0, eol + 2);
            if (size == 0) {
                // trailers until an empty line
                while (true) {
                    while ((eol = buf_.find("\r\n")) == std::string::npos) fill(deadline);
                    const bool empty = eol == 0;
                    buf_.erase(0, eol + 2);
                    if (empty) return;
                }
            }
            while (buf_.size() < size + 2) fill(deadline);
            r.body.append(buf_, 0, size);
            buf_.erase(0, size + 2);
        }
    }

    // ---- which request an answer belongs to (for the answer log) ----

    struct SentRequest {
        std::string method;  // empty: the bytes did not parse as a request
        std::string target;
    };

    // Finds the request heads in what was sent on this connection, so each answer can be
    // recorded with its method and target. Bodies are skipped by Content-Length; after a chunked
    // body or bytes that are no request, the rest of the connection's answers are unknown.
    void note_sent(std::string_view bytes) {
        if (!AnswerLog::instance().enabled()) return;
        if (sent_lost_) return;
        sent_.append(bytes);
        while (true) {
            if (body_left_ > 0) {
                const std::size_t n = std::min(body_left_, sent_.size());
                sent_.erase(0, n);
                body_left_ -= n;
                if (body_left_ > 0) return;
            }
            const auto head_end = sent_.find("\r\n\r\n");
            if (head_end == std::string::npos) return;
            const std::string head = sent_.substr(0, head_end + 2);
            sent_.erase(0, head_end + 4);
            std::size_t pos = 0;
            const std::string line = take_line(head, pos);
            const auto sp1 = line.find(' ');
            const auto sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
            if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
                unanswered_.push_back({});
                sent_lost_ = true;
                return;
            }
            unanswered_.push_back({line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1)});
            while (pos < head.size()) {
                const std::string h = take_line(head, pos);
                const auto colon = h.find(':');
                if (colon == std::string::npos) continue;
                const std::string name = ascii_lower(h.substr(0, colon));
                const std::string value = ascii_lower(h.substr(colon + 1));
                if (name == "content-length")
                    body_left_ = std::strtoull(value.c_str(), nullptr, 10);
                if (name == "transfer-encoding" && value.find("chunked") != std::string::npos)
                    sent_lost_ = true;
            }
            if (sent_lost_) return;
        }
    }

    void record_answer(const HttpResponse& r) {
        if (!AnswerLog::instance().enabled()) return;
        SentRequest req;
        if (!unanswered_.empty()) {
            req = std::move(unanswered_.front());
            unanswered_.pop_front();
        }
        AnswerLog::instance().record(req.method, req.target, r.status, r.headers, r.body);
    }

    std::string host_;
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    int fd_ = -1;
    std::string buf_;  // bytes received and not yet consumed
    int connections_opened_ = 0;
    std::string sent_;                    // sent bytes not yet parsed into requests
    std::size_t body_left_ = 0;           // of the last request's body, still to skip in sent_
    bool sent_lost_ = false;              // the connection's requests no longer parse
    std::deque<SentRequest> unanswered_;  // requests sent, in order, awaiting their answers
};

// Percent-encodes everything outside the unreserved set (for path segments and query values).
inline std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace ordinal::test
