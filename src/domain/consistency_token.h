#pragma once
// Consistency tokens: opaque strings that carry per-stream versions. Several tokens merge into
// one version vector (the highest version of each stream wins).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/stream.h"

namespace ordinal {

using VersionVector = std::map<StreamKey, std::int64_t>;

inline constexpr std::size_t kMaxTokenStreams = 256;

// "ct1." followed by unpadded base64url of "o:<uuid>@<version>;p:<sku>@<version>..."
std::string encode_consistency_token(const VersionVector& versions);

// Parses a header value of one or more comma-separated tokens (optional spaces around commas).
// Returns nullopt if any token is malformed or the vector is larger than kMaxTokenStreams.
std::optional<VersionVector> parse_consistency_tokens(std::string_view header);

void merge_into(VersionVector& into, const VersionVector& from);

}  // namespace ordinal
