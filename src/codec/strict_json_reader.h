#pragma once
// Strict JSON parsing for untrusted input. Internal to codec/: this header exposes the JSON
// library's DOM type, so only codec/*.cpp may include it.
//
// Why not plain nlohmann::json::parse: its DOM builder keeps the last of duplicate member names
// (two parsers may then disagree about what a body says) and puts no bound on nesting. This
// reader parses with the library's iterative SAX parser (no recursion, whatever the input) and
// builds the DOM itself, rejecting what a client cannot mean unambiguously.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "domain/expected.h"

namespace ordinal {

inline constexpr std::size_t kMaxJsonDepth = 32;

// Parses `text` as exactly one JSON value (any type; surrounding whitespace allowed).
// Errors (a message safe to show a client, no echo of the input): syntax errors, invalid UTF-8,
// lone surrogate escapes, numbers that overflow a double, nesting of arrays/objects deeper than
// `max_depth`, duplicate member names. Integers beyond 64 bits arrive as floating-point values.
// Never throws. Thread-safe.
Expected<nlohmann::json, std::string> parse_strict_json(std::string_view text,
                                                        std::size_t max_depth = kMaxJsonDepth);

// Compact JSON for client-facing bodies: never throws, replaces invalid UTF-8 with U+FFFD.
std::string dump_json(const nlohmann::json& value);
std::string dump_json(const nlohmann::ordered_json& value);

}  // namespace ordinal
