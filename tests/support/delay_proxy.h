#pragma once
// A TCP relay that delays every byte by a settable time in each direction, for the degraded-link
// partition test: this kernel has no netem qdisc, so latency is added here, in the test's own
// process, on the path between the service's processes and PostgreSQL (packet loss is the switch's:
// netns_hosts.sh lossy). Bytes keep their order; each chunk read is written `delay` after it was
// read, so the link's bandwidth is kept and only its latency grows (a chunk never waits for the
// one before it to be delayed again). Listens on all addresses of the test's namespace on a port
// of its own; the destructor closes every connection and joins every thread. Bounded: at most
// kMaxConnections relayed connections at once (more are closed at accept).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ordinal::test {

class DelayProxy {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxConnections = 400;

    DelayProxy(std::string target_address, std::uint16_t target_port)
        : target_address_(std::move(target_address)), target_port_(target_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw std::runtime_error("delay proxy: socket");
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listener_, 128) != 0) {
            ::close(listener_);
            throw std::runtime_error("delay proxy: bind/listen");
        }
        socklen_t len = sizeof a;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~DelayProxy() {
        stopping_ = true;
        acceptor_.join();
        ::close(listener_);
        std::lock_guard lock(mu_);
        for (auto& c : connections_) c->close_both();
        for (auto& c : connections_) c->join();
    }
    DelayProxy(const DelayProxy&) = delete;
    DelayProxy& operator=(const DelayProxy&) = delete;

    std::uint16_t port() const { return port_; }
    // Latency added to each direction from now on (chunks already in flight keep theirs).
    void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }

  private:
    // One direction of a relayed connection: a reader queues chunks with their due time, a
    // writer sends each when it is due.
    struct Pipe {
        std::mutex mu;
        std::condition_variable cv;
        std::deque<std::pair<Clock::time_point, std::string>> chunks;  // empty string: EOF
        bool closed = false;
    };

    struct Connection {
        int client = -1, server = -1;
        Pipe up, down;  // client -> server, server -> client
        std::vector<std::thread> threads;

        void close_both() {
            ::shutdown(client, SHUT_RDWR);
            ::shutdown(server, SHUT_RDWR);
            for (Pipe* p : {&up, &down}) {
                std::lock_guard lock(p->mu);
                p->closed = true;
                p->cv.notify_all();
            }
        }
        void join() {
            for (auto& t : threads) t.join();
            threads.clear();
            ::close(client);
            ::close(server);
        }
    };

    void accept_loop() {
        while (!stopping_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            const int server = connect_target();
            std::lock_guard lock(mu_);
            if (server < 0 || connections_.size() >= kMaxConnections) {
                ::close(client);
                if (server >= 0) ::close(server);
                continue;
            }
            auto c = std::make_unique<Connection>();
            c->client = client;
            c->server = server;
            Connection* raw = c.get();
            raw->threads.emplace_back([this, raw] { read_into(raw->client, raw->up); });
            raw->threads.emplace_back([this, raw] { write_from(raw->up, raw->server, raw); });
            raw->threads.emplace_back([this, raw] { read_into(raw->server, raw->down); });
            raw->threads.emplace_back([this, raw] { write_from(raw->down, raw->client, raw); });
            connections_.push_back(std::move(c));
        }
    }

    int connect_target() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(target_port_);
        ::inet_pton(AF_INET, target_address_.c_str(), &a.sin_addr);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    void read_into(int from, Pipe& pipe) {
        char buf[16384];
        for (;;) {
            const ssize_t n = ::recv(from, buf, sizeof buf, 0);
            const auto due = Clock::now() + std::chrono::milliseconds(delay_ms_.load());
            std::lock_guard lock(pipe.mu);
            if (n <= 0) {
                pipe.chunks.emplace_back(due, std::string());  // EOF after what came before
                pipe.cv.notify_all();
                return;
            }
            pipe.chunks.emplace_back(due, std::string(buf, static_cast<std::size_t>(n)));
            pipe.cv.notify_all();
        }
    }

    void write_from(Pipe& pipe, int to, Connection* c) {
        for (;;) {
            std::unique_lock lock(pipe.mu);
            pipe.cv.wait(lock, [&] { return pipe.closed || !pipe.chunks.empty(); });
            if (pipe.closed) return;
            const auto due = pipe.chunks.front().first;
            if (pipe.cv.wait_until(lock, due, [&] { return pipe.closed; })) return;
            std::string chunk = std::move(pipe.chunks.front().second);
            pipe.chunks.pop_front();
            lock.unlock();
            if (chunk.empty()) {  // the other side closed: pass it on, and end both ways
                c->close_both();
                return;
            }
            std::size_t sent = 0;
            while (sent < chunk.size()) {
                const ssize_t n =
                    ::send(to, chunk.data() + sent, chunk.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) {
                    c->close_both();
                    return;
                }
                sent += static_cast<std::size_t>(n);
            }
        }
    }

    std::string target_address_;
    std::uint16_t target_port_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<long long> delay_ms_{0};
    std::mutex mu_;
    std::list<std::unique_ptr<Connection>> connections_;  // guarded by mu_; kept until the end
    std::thread acceptor_;
};

}  // namespace ordinal::test
