#pragma once
// The W3C Trace Context headers (https://www.w3.org/TR/trace-context/): parsing, validation and
// minting. Pure functions but for the random ids (OpenSSL's RAND_bytes); thread-safe.
//
// Ordinal takes part in a trace as one span per command: it keeps the caller's trace-id and
// flags, and puts a span id of its own in the parent-id field of the traceparent it stores with
// the event and sends on (so a consumer of the bus message sees Ordinal as its parent). An
// absent or invalid traceparent starts a new trace (the spec's "restart the trace"), and then
// any tracestate is ignored as well, as the spec requires.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ports/trace_context.h"

namespace ordinal {

struct Traceparent {
    std::string trace_id;   // 32 lower-case hex digits, not all zero
    std::string parent_id;  // 16 lower-case hex digits, not all zero
    std::uint8_t flags = 0;
};

// A traceparent header by the spec's rules: version 00 is exactly
// "00-<trace-id>-<parent-id>-<flags>" (55 characters, lower-case hex); version ff is invalid; a
// higher version is read by its version-00 prefix, which must be followed by the end or a '-'.
// Surrounding spaces and tabs (HTTP's optional whitespace) are ignored. nullopt when invalid,
// which includes a repeated header (joined with ", ", it is too long or has a bad character).
std::optional<Traceparent> parse_traceparent(std::string_view header);

// A tracestate header by the spec's rules (at most 32 list-members "key=value", keys as the
// spec's grammar says and none repeated, empty members allowed), returned trimmed; nullopt when
// invalid, which discards the whole header. One longer than 512 characters is cut as the spec
// suggests: members longer than 128 characters go first, then members from the end.
std::optional<std::string> parse_tracestate(std::string_view header);

// "00-<trace-id>-<parent-id>-<flags>".
std::string format_traceparent(const Traceparent& tp);

// The context Ordinal stores and sends on for a command carrying these headers (nullopt:
// absent): the caller's trace-id, flags and valid tracestate with a new span id of ours as
// parent-id; or, without a valid traceparent, a new trace (random trace-id and span id, flags
// 00: Ordinal records no spans, so it never claims to have sampled one).
TraceContext continue_trace(const std::optional<std::string>& traceparent,
                            const std::optional<std::string>& tracestate);

// The same with the random bytes given (16 for a trace-id, then 8 for the span id), for tests.
// All-zero ids are invalid: a zero draw is replaced by a fixed non-zero one.
TraceContext continue_trace(const std::optional<std::string>& traceparent,
                            const std::optional<std::string>& tracestate,
                            const std::array<std::uint8_t, 24>& random);

}  // namespace ordinal
