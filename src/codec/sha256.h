#pragma once
// SHA-256 (FIPS 180-4), used to condense a command's canonical payload into its idempotency
// fingerprint. A strong hash keeps "same fingerprint" meaning "same payload" without storing
// whole bodies next to every idempotency key. Pure function; thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ordinal {

std::array<std::uint8_t, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);  // 64 lower-case hex digits

}  // namespace ordinal
