// Fuzzes the consistency-token parser (domain/consistency_token.h: parse_consistency_tokens), the
// value of the X-Consistency-Token header.
//
// Every input is tried twice: as the header value itself, and as the decoded payload of one token
// ("ct1." + base64url(input)), so that mutations reach the "o:<uuid>@<v>;p:<sku>@<v>" grammar
// without having to get the base64 right.
//
// Properties, beyond "never throws, no sanitizer report":
//   - a parsed vector has 1..kMaxTokenStreams streams, canonical order ids, valid skus and
//     versions >= 1;
//   - encode then parse gives back the same vector; a header of the same token twice too;
//   - splitting a header at a comma: the whole parses iff both parts parse (and their merge is
//     within the stream limit), and then it is their merge.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/base64url.h"
#include "domain/consistency_token.h"
#include "fuzz_support.h"

namespace {

using namespace ordinal;

std::optional<VersionVector> parse(std::string_view header) {
    try {
        return parse_consistency_tokens(header);
    } catch (const std::exception& e) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "parse_consistency_tokens threw", e.what());
    } catch (...) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "parse_consistency_tokens threw", "non-std");
    }
}

void check_vector(const VersionVector& v, std::string_view from) {
    FUZZ_CHECK(!v.empty(), from);
    FUZZ_CHECK(v.size() <= kMaxTokenStreams, std::to_string(v.size()));
    for (const auto& [key, version] : v) {
        FUZZ_CHECK(version >= 1, std::to_string(version));
        if (key.type == StreamType::Order) {
            FUZZ_CHECK(ordinal::fuzz::is_canonical_uuid(key.id), key.id);
        } else {
            FUZZ_CHECK(!check_sku(key.id), key.id);
        }
    }
}

void check_header(std::string_view header) {
    const auto v = parse(header);
    if (!v) return;
    check_vector(*v, header);

    const std::string token = encode_consistency_token(*v);
    const auto back = parse(token);
    FUZZ_CHECK(back && *back == *v, token);
    const auto twice = parse(token + " , " + token);
    FUZZ_CHECK(twice && *twice == *v, token);
}

void check_split(std::string_view header) {
    const auto comma = header.find(',');
    if (comma == std::string_view::npos) return;
    const auto whole = parse(header);
    const auto left = parse(header.substr(0, comma));
    const auto right = parse(header.substr(comma + 1));
    if (left && right) {
        VersionVector merged = *left;
        merge_into(merged, *right);
        if (merged.size() <= kMaxTokenStreams) {
            FUZZ_CHECK(whole && *whole == merged, header);
        } else {
            FUZZ_CHECK(!whole, header);
        }
    } else {
        FUZZ_CHECK(!whole, header);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size > 64 * 1024) return -1;
    const std::string_view in(reinterpret_cast<const char*>(bytes), size);
    check_header(in);
    check_split(in);
    check_header("ct1." + base64url(in));
    return 0;
}
