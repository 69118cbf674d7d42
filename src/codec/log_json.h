#pragma once
// One line of the structured process log (--log-format json): a JSON object with the time, level
// and message, and the trace and order ids when the line has them. Thread-safe.
#include <cstdint>
#include <string>
#include <string_view>

namespace ordinal {

struct LogLineFields {
    std::int64_t unix_ms = 0;
    std::string_view level;  // "info", "warning", ...
    std::string_view message;
    std::string_view trace_id;  // left out when empty
    std::string_view order_id;  // left out when empty
};

// {"timestamp":"2026-12-06T07:00:00.123Z","level":"info","message":"...","trace_id":"...",
//  "order_id":"..."} without a newline. Bytes that are not UTF-8 become U+FFFD (a log line
// must stay one valid JSON object whatever a message quotes).
std::string write_log_line_json(const LogLineFields& line);

}  // namespace ordinal
