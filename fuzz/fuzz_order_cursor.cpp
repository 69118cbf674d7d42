// Fuzzes the paging cursor decoder (codec/order_cursor.h: decode_order_cursor), the `cursor` query
// parameter of GET /v1/users/{userId}/orders after percent-decoding.
//
// Every input is tried twice: as the cursor text itself, and as the decoded payload of a cursor
// (base64url(input)), so that mutations reach the "<createdAt>|<orderId>" grammar directly.
//
// Properties, beyond "never throws, no sanitizer report":
//   - a decoded cursor has a 24-byte createdAt and an order id that is a UUID;
//   - the text is canonical: encoding the decoded cursor gives back exactly the text;
//   - decode . encode is the identity on decoded cursors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "codec/order_cursor.h"
#include "domain/base64url.h"
#include "fuzz_support.h"

namespace {

using namespace ordinal;

std::optional<OrderCursor> decode(std::string_view text) {
    try {
        return decode_order_cursor(text);
    } catch (const std::exception& e) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "decode_order_cursor threw", e.what());
    } catch (...) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "decode_order_cursor threw", "non-std");
    }
}

void check(std::string_view text) {
    const auto c = decode(text);
    if (!c) return;
    FUZZ_CHECK(c->created_at.size() == 24, c->created_at);
    FUZZ_CHECK(canonical_uuid(c->order_id).has_value(), c->order_id);
    const std::string again = encode_order_cursor(*c);
    FUZZ_CHECK(again == text, again);
    const auto back = decode(again);
    FUZZ_CHECK(back && back->created_at == c->created_at && back->order_id == c->order_id, again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size > 4096) return -1;
    const std::string_view in(reinterpret_cast<const char*>(bytes), size);
    check(in);
    check(base64url(in));
    return 0;
}
