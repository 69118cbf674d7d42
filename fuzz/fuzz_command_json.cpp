// Fuzzes the strict command readers (codec/command_json.h: read_command).
//
// Input layout (see fuzz/README.md):
//   byte 0         command kind = (b & 7) % 5  (0 upsert_product, 1 place_order, 2 pay_order,
//                  3 ship_order, 4 cancel_order); bit 0x10 set = an Idempotency-Key header follows.
//                  Readable choices: '@' 'A' 'B' 'C' 'D' (no header), 'P' 'Q' 'R' 'S' 'T' (header).
//   line           the path parameter (sku or order id; ignored for place_order)
//   line           the Idempotency-Key header value, when bit 0x10 is set
//   rest           the body
//
// Properties, beyond "never throws, no sanitizer report":
//   - an accepted command has every field within its documented range, a canonical key and a
//     well-formed fingerprint (fuzz_support.h);
//   - a rejection has 1..kMaxFieldErrors details; `malformed` rejections carry no key and one
//     detail on "body"; a fingerprint is present exactly when a key is;
//   - reading is deterministic;
//   - the fingerprint ignores the spelling: the same body re-serialized by another JSON writer
//     (pretty-printed, non-ASCII escaped) and the header key in upper case give the same outcome
//     and the same fingerprint;
//   - whatever the strict reader accepts as JSON, a plain JSON parser accepts too.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "codec/command_json.h"
#include "fuzz_support.h"

namespace {

using namespace ordinal;
using ordinal::fuzz::take_line;

Expected<CommandRequest, CommandRejection> read_guarded(const CommandInput& in) {
    try {
        return read_command(in);
    } catch (const std::exception& e) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "read_command threw", e.what());
    } catch (...) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "read_command threw", "a non-std exception");
    }
}

void check_rejection(const CommandRejection& r) {
    FUZZ_CHECK(!r.details.empty(), r.message);
    FUZZ_CHECK(r.details.size() <= kMaxFieldErrors, std::to_string(r.details.size()));
    FUZZ_CHECK(!r.message.empty(), "");
    for (const auto& d : r.details) {
        // A member named "" is reported as the unknown field "" (the name as the client wrote it).
        FUZZ_CHECK(!d.field.empty() || d.message == "unknown field", d.message);
        FUZZ_CHECK(!d.message.empty(), d.field);
    }
    FUZZ_CHECK(r.idempotency_key.has_value() == r.fingerprint.has_value(), r.message);
    if (r.malformed) {
        FUZZ_CHECK(!r.idempotency_key, *r.idempotency_key);
        FUZZ_CHECK(r.details.size() == 1 && r.details[0].field == "body", r.details[0].field);
    }
    if (r.idempotency_key) {
        FUZZ_CHECK(ordinal::fuzz::is_canonical_uuid(*r.idempotency_key), *r.idempotency_key);
    }
}

bool all_whitespace(std::string_view s) {
    return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The outcome as far as "the same payload" goes: accepted or not, and the fingerprint if any.
std::pair<bool, std::optional<std::string>> gist(const Expected<CommandRequest, CommandRejection>& r) {
    if (r) return {true, r->fingerprint};
    return {false, r.error().fingerprint};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > 70 * 1024) return -1;  // the HTTP layer caps bodies at 64 KiB
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto selector = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    const auto kind = static_cast<CommandKind>((selector & 7) % 5);
    const bool has_header = (selector & 0x10) != 0;

    CommandInput input;
    input.kind = kind;
    input.target = take_line(in);
    if (has_header) input.idempotency_key_header = take_line(in);
    input.body = in;

    const auto first = read_guarded(input);
    if (first) {
        ordinal::fuzz::check_command_request(*first, kind, input.target);
    } else {
        check_rejection(first.error());
    }

    // Determinism.
    const auto again = read_guarded(input);
    FUZZ_CHECK(gist(again) == gist(first), "second read differs");

    // The key's spelling does not matter.
    if (input.idempotency_key_header) {
        if (auto canon = canonical_uuid(*input.idempotency_key_header)) {
            std::string upper = *canon;
            for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            CommandInput shouting = input;
            shouting.idempotency_key_header = upper;
            FUZZ_CHECK(gist(read_guarded(shouting)) == gist(first), upper);
        }
    }

    // Whatever parsed as a JSON object must parse with a plain parser too, and the body's spelling
    // does not change the outcome or the fingerprint.
    const bool parsed = first || !first.error().malformed;
    if (parsed && !all_whitespace(input.body)) {
        const auto plain = nlohmann::json::parse(input.body.begin(), input.body.end(), nullptr,
                                                 /*allow_exceptions=*/false);
        FUZZ_CHECK(!plain.is_discarded(), "strict reader accepted what nlohmann rejects");
        FUZZ_CHECK(plain.is_object(), "strict reader accepted a non-object body");
        const std::string respelled =
            plain.dump(1, '\t', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::strict);
        CommandInput other = input;
        other.body = respelled;
        FUZZ_CHECK(gist(read_guarded(other)) == gist(first), respelled);
    }
    return 0;
}
