#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// RFC 4122 textual form (8-4-4-4-12 hex digits), any case. Returns the canonical lower-case
// form, or nullopt if `text` is not a UUID.
std::optional<std::string> canonical_uuid(std::string_view text);

// Formats 16 bytes as a lower-case UUID string.
std::string format_uuid(const std::array<std::uint8_t, 16>& bytes);

// Builds a UUIDv7 (RFC 9562) from a Unix time in milliseconds and 10 random bytes.
std::string make_uuid_v7(std::uint64_t unix_ms, const std::array<std::uint8_t, 10>& random);

}  // namespace ordinal
