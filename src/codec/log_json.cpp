#include "codec/log_json.h"

#include <nlohmann/json.hpp>

#include "domain/time_format.h"

namespace ordinal {

std::string write_log_line_json(const LogLineFields& line) {
    // An ordered_json keeps the keys in the order written: timestamp first, for a reader's eye.
    nlohmann::ordered_json j;
    j["timestamp"] = format_rfc3339_ms(line.unix_ms);
    j["level"] = std::string(line.level);
    j["message"] = std::string(line.message);
    if (!line.trace_id.empty()) j["trace_id"] = std::string(line.trace_id);
    if (!line.order_id.empty()) j["order_id"] = std::string(line.order_id);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ordinal
