#pragma once
// A log line the core or an adapter hands to the process log, with the fields a structured log
// (--log-format json) keeps apart from the message. The composition root decides the format.
#include <functional>
#include <string>

namespace ordinal {

enum class LogLevel { Debug, Info, Warn, Error };

struct LogRecord {
    LogLevel level = LogLevel::Info;
    std::string message;
    std::string trace_id;  // empty when unknown
    std::string order_id;  // empty when the line is about no order
};

// Must be safe to call from any thread.
using LogSink = std::function<void(const LogRecord&)>;

}  // namespace ordinal
