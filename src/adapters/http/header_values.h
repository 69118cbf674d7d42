#pragma once
// Parsing of the request headers the API gives meaning to. Pure functions, thread-safe.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// True for `application/json` (any case, optional parameters) and `application/<x>+json`.
// A charset parameter, if present, must be UTF-8: the contract's bodies are UTF-8.
bool is_json_media_type(std::string_view content_type);

inline constexpr std::chrono::milliseconds kDefaultConsistencyWait{2000};
inline constexpr std::chrono::milliseconds kMaxConsistencyWait{10000};

// X-Consistency-Wait-Ms: decimal digits only (no sign, no fraction, not empty); values above
// kMaxConsistencyWait (however many digits) are capped. nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_consistency_wait(std::string_view value);

// Whether `authorization` is "Bearer <token>" (scheme in any case) with exactly `token`.
// The comparison takes the same time wherever the first difference is, so response timing does
// not reveal how much of a guess was right.
bool bearer_token_matches(const std::optional<std::string>& authorization, std::string_view token);

// Constant-time equality of two strings (time depends only on the lengths).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace ordinal
