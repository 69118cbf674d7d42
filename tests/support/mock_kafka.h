#pragma once
// A Kafka cluster for tests: `ordinal dev-kafka` (librdkafka's mock cluster: 3 brokers, the real
// wire protocol over TCP) as a child process, driven through its stdin. Each instance is a fresh
// cluster with its own topic, so tests never share Kafka state.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/process_runner.h"

namespace ordinal::test {

class MockKafka {
  public:
    explicit MockKafka(int partitions = 6, std::string topic = "ordinal-events", int brokers = 3)
        : topic_(std::move(topic)) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        const std::string parts = std::to_string(partitions), nbrokers = std::to_string(brokers);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            die_with_parent(parent);
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            const int devnull = ::open("/dev/null", O_WRONLY);
            if (devnull >= 0) ::dup2(devnull, 2);
            const char* argv[] = {ORDINAL_BINARY,
                                  "dev-kafka",
                                  "--topic",
                                  topic_.c_str(),
                                  "--partitions",
                                  parts.c_str(),
                                  "--brokers",
                                  nbrokers.c_str(),
                                  "--replication-factor",
                                  brokers >= 3 ? "3" : nbrokers.c_str(),
                                  nullptr};
            ::execv(ORDINAL_BINARY, const_cast<char* const*>(argv));
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_child_ = in[1];
        from_child_ = out[0];
        const std::string first = read_line(std::chrono::seconds(20));
        if (first.rfind("bootstrap ", 0) != 0)
            throw std::runtime_error("dev-kafka did not start: " + first);
        bootstrap_ = first.substr(10);
    }

    ~MockKafka() {
        if (to_child_ >= 0) {
            (void)!::write(to_child_, "quit\n", 5);
            ::close(to_child_);
        }
        if (from_child_ >= 0) ::close(from_child_);
        if (pid_ > 0) {
            for (int i = 0; i < 200; ++i) {
                if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
                ::usleep(10000);
            }
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    MockKafka(const MockKafka&) = delete;
    MockKafka& operator=(const MockKafka&) = delete;

    const std::string& bootstrap() const { return bootstrap_; }
    const std::string& topic() const { return topic_; }
    // The --bus URL, with extra librdkafka properties (e.g. "message.timeout.ms=2000").
    //
    // One produce request in flight per connection: the mock cluster does not check an
    // idempotent producer's sequence numbers (librdkafka 2.0's mock checks them only for
    // transactional producers). A request that fails with an injected error while the next one
    // for its partition is in flight leaves a hole: the mock writes the next one, and librdkafka,
    // seeing it acknowledged, takes the failed one as written too — a real broker would have
    // refused the next one as out of sequence — and reports its messages delivered. With the
    // relay's batches pipelined, that lost events on the mock only
    // (KafkaBusOnMockTest.AProduceRequestFailingWhileTheNextIsInFlightLosesNothing).
    //
    // fetch.wait.max.ms=10: the mock holds a fetch that finds nothing for the whole wait, even
    // when messages arrive meanwhile (a real broker answers at once), so the consumer default of
    // 100 ms would add up to 100 ms to every message after a quiet moment.
    std::string url(const std::string& properties = {}) const {
        return "kafka://" + bootstrap_ + "/" + topic_ +
               "?max.in.flight.requests.per.connection=1&fetch.wait.max.ms=10" +
               (properties.empty() ? "" : "&" + properties);
    }

    // Runs a fault-injection command (see `ordinal dev-kafka`, then `help`); throws if refused.
    void command(const std::string& line) {
        const std::string text = line + "\n";
        if (::write(to_child_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            throw std::runtime_error("dev-kafka is gone");
        }
        const std::string answer = read_line(std::chrono::seconds(30));
        if (answer != "ok") throw std::runtime_error("dev-kafka refused '" + line + "': " + answer);
    }

  private:
    std::string read_line(std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (true) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("dev-kafka did not answer in time");
            pollfd p{from_child_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[512];
            const ssize_t n = ::read(from_child_, chunk, sizeof chunk);
            if (n <= 0) throw std::runtime_error("dev-kafka exited");
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    std::string topic_;
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    std::string buffer_;
    std::string bootstrap_;
};

}  // namespace ordinal::test
