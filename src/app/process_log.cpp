#include "app/process_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "codec/log_json.h"

namespace ordinal {
namespace {

// Set by configure_process_log. Atomic because a process may start a second service while the
// first one logs (the HTTP tests do: a service of their own beside the fixture's, whose start
// configures the log again), and TSan saw that write race the first service's reads.
std::atomic<bool> json_format{false};

// The fields of the line being logged on this thread: spdlog's logger is synchronous, so its
// formatter runs on the thread that logs, inside the call process_log_sink() makes.
thread_local const LogRecord* current_fields = nullptr;

class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        LogLineFields line;
        line.unix_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch())
                .count();
        const auto level = spdlog::level::to_string_view(msg.level);
        line.level = std::string_view(level.data(), level.size());
        line.message = std::string_view(msg.payload.data(), msg.payload.size());
        if (current_fields) {
            line.trace_id = current_fields->trace_id;
            line.order_id = current_fields->order_id;
        }
        const std::string text = write_log_line_json(line);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

spdlog::level::level_enum spdlog_level(LogLevel level) {
    switch (level) {
        case LogLevel::Debug:
            return spdlog::level::debug;
        case LogLevel::Info:
            return spdlog::level::info;
        case LogLevel::Warn:
            return spdlog::level::warn;
        case LogLevel::Error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

}  // namespace

Expected<void, std::string> configure_process_log(const std::string& format,
                                                  const std::string& level) {
    if (format != "text" && format != "json")
        return unexpected("--log-format must be text or json, not '" + format + "'");
    const auto parsed = level == "debug"   ? spdlog::level::debug
                        : level == "info"  ? spdlog::level::info
                        : level == "warn"  ? spdlog::level::warn
                        : level == "error" ? spdlog::level::err
                                           : spdlog::level::off;
    if (parsed == spdlog::level::off)
        return unexpected("--log-level must be debug, info, warn or error, not '" + level + "'");
    spdlog::set_level(parsed);
    json_format.store(format == "json", std::memory_order_relaxed);
    if (format == "json") spdlog::set_formatter(std::make_unique<JsonFormatter>());
    return {};
}

LogSink process_log_sink(LogLevel level) {
    if (!spdlog::should_log(spdlog_level(level))) return {};
    return [](const LogRecord& record) {
        const auto level = spdlog_level(record.level);
        if (!spdlog::should_log(level)) return;
        if (json_format.load(std::memory_order_relaxed)) {
            current_fields = &record;
            spdlog::log(level, "{}", record.message);
            current_fields = nullptr;
            return;
        }
        std::string line = record.message;
        if (!record.trace_id.empty()) line += " trace_id=" + record.trace_id;
        if (!record.order_id.empty()) line += " order_id=" + record.order_id;
        spdlog::log(level, "{}", line);
    };
}

}  // namespace ordinal
