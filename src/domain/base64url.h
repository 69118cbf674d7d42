#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// Unpadded base64url (RFC 4648 §5), used for opaque tokens and cursors.
std::string base64url(std::string_view in);
// nullopt on any character outside the alphabet or a non-canonical tail.
std::optional<std::string> unbase64url(std::string_view in);

}  // namespace ordinal
