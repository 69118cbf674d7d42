#pragma once
// Runs the real `ordinal` binary as a child process for black-box tests: fork/exec with its
// output in a log file, SIGKILL/SIGTERM, bounded waits. The child never inherits ORDINAL_*
// variables from the test's environment unless given explicitly.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/http_client.h"

extern char** environ;

namespace ordinal::test {

inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// In a forked child before exec: SIGKILL this process when the test process dies, even by
// SIGKILL or abort (a sanitizer's halt_on_error, CTest's timeout), whose destructors never run
// to stop it. Without this an aborted test left its `ordinal serve` children running under
// init for hours. The signal follows the forking thread, so children are started from the
// test's main thread. Async-signal-safe: two system calls.
inline void die_with_parent(pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);  // the parent died before prctl took effect
}

// A port that was free a moment ago (bound to 127.0.0.1:0, then released).
inline std::uint16_t pick_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind/getsockname failed");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

class ChildProcess {
  public:
    using Env = std::vector<std::pair<std::string, std::string>>;

    // Starts `binary args...` with stdout and stderr appended to `log_path`. The environment is
    // the test's own minus every ORDINAL_* variable, plus `env`.
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& log_path, const Env& env = {})
        : log_path_(log_path) {
        std::vector<std::string> argv_s{binary};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<std::string> env_s;
        for (char** e = environ; e && *e; ++e) {
            if (std::strncmp(*e, "ORDINAL_", 8) != 0) env_s.emplace_back(*e);
        }
        for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
        std::vector<char*> argv, envp;
        for (auto& s : argv_s) argv.push_back(s.data());
        argv.push_back(nullptr);
        for (auto& s : env_s) envp.push_back(s.data());
        envp.push_back(nullptr);

        const int log_fd =
            ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) throw std::runtime_error("cannot open " + log_path);
        const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) {
            ::close(log_fd);
            ::close(devnull);
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            // Child: only async-signal-safe calls until exec.
            die_with_parent(parent);
            ::dup2(devnull, 0);
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::execve(argv[0], argv.data(), envp.data());
            _exit(127);
        }
        ::close(log_fd);
        ::close(devnull);
    }
    ~ChildProcess() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            wait_exit(std::chrono::seconds(10));
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& log_path() const { return log_path_; }
    std::string log() const { return read_text_file(log_path_); }

    bool running() {
        if (status_) return false;
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = st;
            return false;
        }
        return r == 0;
    }

    void signal(int sig) {
        if (running()) ::kill(pid_, sig);
    }

    // SIGSTOP, and true once every thread of the child is stopped. The signal stops the other
    // threads only when the one it woke gets a CPU; on a loaded machine they go on working for
    // tens of milliseconds meanwhile (a relay publishing, a projector applying).
    bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        signal(SIGSTOP);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            bool all = true;
            std::error_code ec;
            const std::string tasks = "/proc/" + std::to_string(pid_) + "/task";
            for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
                const std::string stat = read_text_file(task.path().string() + "/stat");
                const auto close = stat.rfind(')');
                all = all && close != std::string::npos && close + 2 < stat.size() &&
                      stat[close + 2] == 'T';
            }
            if (all && !ec) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    }

    // The raw wait status once the child has exited, or nullopt if it is still running after
    // `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (running()) {
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return status_;
    }

    // Runs to completion (killed after `timeout`); returns {exit code or -signal, output}.
    static std::pair<int, std::string> run(
        const std::string& binary, const std::vector<std::string>& args,
        const std::string& log_path, const Env& env = {},
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        ChildProcess p(binary, args, log_path, env);
        auto st = p.wait_exit(timeout);
        if (!st) {
            p.signal(SIGKILL);
            st = p.wait_exit(std::chrono::seconds(10));
            return {-SIGKILL, p.log()};
        }
        const int code = WIFEXITED(*st) ? WEXITSTATUS(*st) : -WTERMSIG(*st);
        return {code, p.log()};
    }

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string log_path_;
};

// `ordinal serve` on a data directory, listening on a free loopback port, healthy once start()
// returns. Restartable on the same data directory.
class ServerProcess {
  public:
    ServerProcess(std::string binary, std::string data_dir, std::string log_dir,
                  std::vector<std::string> extra_args = {}, ChildProcess::Env env = {})
        : binary_(std::move(binary)),
          data_dir_(std::move(data_dir)),
          log_dir_(std::move(log_dir)),
          extra_args_(std::move(extra_args)),
          env_(std::move(env)) {}

    // Runs the server through `launcher` (e.g. `ip netns exec NS`: a test host of its own) and
    // reaches it at `host`, where it listens. Call before start().
    void place(std::vector<std::string> launcher, std::string host) {
        launcher_ = std::move(launcher);
        host_ = std::move(host);
    }

    // Starts the server and waits until it logs that it listens on the picked port and GET
    // /healthz answers 200 there (retrying on another port if the picked one was taken
    // meanwhile). The log line comes first: between pick_free_port() and the child's bind, another
    // test's server may take the port, and its 200 must not pass for this child's (which then
    // fails to bind and exits: a kafka-tier test once met "connection refused" right after start).
    void start(std::chrono::milliseconds within = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (int attempt = 0; attempt < 3; ++attempt) {
            port_ = pick_free_port();
            std::vector<std::string> args{"serve", "--listen", host_ + ":" + std::to_string(port_)};
            if (!data_dir_.empty()) {
                args.push_back("--data-dir");
                args.push_back(data_dir_);
            }
            args.insert(args.end(), extra_args_.begin(), extra_args_.end());
            const std::string log = log_dir_ + "/server-" + std::to_string(++starts_) + ".log";
            if (!launcher_.empty()) {
                args.insert(args.begin(), binary_);
                args.insert(args.begin(), launcher_.begin() + 1, launcher_.end());
            }
            child_ = std::make_unique<ChildProcess>(launcher_.empty() ? binary_ : launcher_.front(),
                                                    args, log, env_);
            const std::string bound = "listening on " + host_ + ":" + std::to_string(port_);
            while (std::chrono::steady_clock::now() < deadline) {
                if (!child_->running()) break;  // e.g. the port was taken: try another one
                if (child_->log().find(bound) != std::string::npos) {
                    try {
                        HttpClient c(port_, host_, std::chrono::milliseconds(500));
                        if (c.get("/healthz").status == 200) return;
                    } catch (const HttpError&) {
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (child_->running()) break;  // running but never healthy: give up
        }
        const std::string log = child_ ? child_->log() : std::string();
        throw std::runtime_error("ordinal serve did not become healthy; log:\n" + log);
    }

    void kill9() {
        if (!child_) return;
        child_->signal(SIGKILL);
        if (!child_->wait_exit(std::chrono::seconds(10)))
            throw std::runtime_error("SIGKILLed server did not exit");
    }

    // SIGTERM and wait: the exit code, or nullopt if it did not exit in time.
    std::optional<int> terminate(std::chrono::milliseconds within = std::chrono::seconds(15)) {
        if (!child_) return std::nullopt;
        child_->signal(SIGTERM);
        const auto st = child_->wait_exit(within);
        if (!st) return std::nullopt;
        return WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
    }

    std::uint16_t port() const { return port_; }
    const std::string& host() const { return host_; }
    ChildProcess* child() { return child_.get(); }
    std::string log() const { return child_ ? child_->log() : std::string(); }

  private:
    std::string binary_;
    std::string data_dir_;
    std::string log_dir_;
    std::vector<std::string> extra_args_;
    ChildProcess::Env env_;
    std::vector<std::string> launcher_;
    std::string host_ = "127.0.0.1";
    std::unique_ptr<ChildProcess> child_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
};

}  // namespace ordinal::test
