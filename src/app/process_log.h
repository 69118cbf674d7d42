#pragma once
// The process log: spdlog's default logger, as text (the default) or as one JSON object per line
// (--log-format json, codec/log_json.h). Lines with a trace or order id come through
// process_log_sink(): in text they end in " trace_id=... order_id=...", in JSON those are keys.
#include <string>

#include "domain/expected.h"
#include "ports/log_record.h"

namespace ordinal {

// `format`: "text" or "json"; `level`: "debug", "info", "warn" or "error". Call before the
// process logs; a later call (another service started in the same process, as in the HTTP tests)
// may race other threads' logging safely.
Expected<void, std::string> configure_process_log(const std::string& format,
                                                  const std::string& level);

// Writes LogRecords of `level` to the process log. Empty when the process log drops that level
// (fixed by configure_process_log), so callers, who check the sink first, build no line per
// command or event that would only be thrown away.
LogSink process_log_sink(LogLevel level);

}  // namespace ordinal
