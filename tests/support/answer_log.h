#pragma once
// Records every answer a test's HttpClient receives, as one JSON line each (method, target,
// status, headers, body), so tests/openapi/check_answers.py can validate the whole HTTP suite's
// answers against docs/openapi.json afterwards (CTest: openapi.answers.<profile>).
//
// On when the test binary is built with ORDINAL_HTTP_ANSWER_DIR (http_tests is) or when
// ORDINAL_TEST_ANSWER_DIR is set (which wins; empty turns it off). Answers go to
// <dir>/<profile>/<pid>.jsonl, where the profile is read from the variables the reruns of the
// suite set (embedded, postgres, redis, kafka); a file per process, so the tests CTest runs at
// once never share one.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordinal::test {

class AnswerLog {
  public:
    // The process-wide log; disabled (record() does nothing) when no directory is configured.
    static AnswerLog& instance() {
        static AnswerLog log;
        return log;
    }

    // The profile the suite runs on, named after the CTest reruns' environment.
    static std::string profile() {
        auto env_is = [](const char* name, std::string_view value) {
            const char* v = std::getenv(name);
            return v != nullptr && value == v;
        };
        if (env_is("ORDINAL_TEST_TOPOLOGY", "kafka")) return "kafka";
        if (env_is("ORDINAL_TEST_BACKEND", "postgres")) return "postgres";
        if (env_is("ORDINAL_TEST_CACHE", "redis")) return "redis";
        return "embedded";
    }

    bool enabled() const { return fd_ >= 0; }

    // `method` and `target` are empty when the request that drew the answer is unknown (bytes
    // sent raw that do not parse as a request). Thread-safe; one write(2) per line.
    void record(std::string_view method, std::string_view target, int status,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body) {
        if (fd_ < 0) return;
        nlohmann::json line{
            {"method", method}, {"target", target}, {"status", status}, {"body", body}};
        auto& h = line["headers"] = nlohmann::json::array();
        for (const auto& [k, v] : headers) h.push_back({k, v});
        // Bodies are text (JSON, Prometheus, the console's files); anything else is replaced
        // rather than lost, since the line must stay valid JSON.
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        std::lock_guard lock(mutex_);
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
            if (n <= 0) return;  // a full disk loses records; the check then sees fewer answers
            done += static_cast<std::size_t>(n);
        }
    }

    AnswerLog(const AnswerLog&) = delete;
    AnswerLog& operator=(const AnswerLog&) = delete;

  private:
    AnswerLog() {
        std::string dir;
#ifdef ORDINAL_HTTP_ANSWER_DIR
        dir = ORDINAL_HTTP_ANSWER_DIR;
#endif
        if (const char* env = std::getenv("ORDINAL_TEST_ANSWER_DIR")) dir = env;
        if (dir.empty()) return;
        const auto folder = std::filesystem::path(dir) / profile();
        std::error_code ec;
        std::filesystem::create_directories(folder, ec);
        const auto file = folder / (std::to_string(::getpid()) + ".jsonl");
        fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    ~AnswerLog() {
        if (fd_ >= 0) ::close(fd_);
    }

    std::mutex mutex_;
    int fd_ = -1;
};

}  // namespace ordinal::test
