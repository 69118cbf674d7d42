#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/) as Ordinal carries it: metadata that
// travels with a command and its event (outbox row, bus message) so one order can be followed
// across processes. Not business data: the domain never sees it. Parsing, validation and minting
// are in codec/trace_context.h.
#include <string>
#include <string_view>

namespace ordinal {

struct TraceContext {
    // "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>", valid by construction (the codec
    // builds it), or empty: an event stored before trace context existed, or a bus message
    // without one.
    std::string traceparent;
    std::string tracestate;  // the caller's vendor entries, as received when valid; often empty

    bool empty() const { return traceparent.empty(); }
    // The 32 hex digits of the trace id, or empty.
    std::string_view trace_id() const {
        return traceparent.size() >= 35 ? std::string_view(traceparent).substr(3, 32)
                                        : std::string_view();
    }
};

}  // namespace ordinal
