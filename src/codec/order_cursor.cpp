#include "codec/order_cursor.h"

#include "domain/base64url.h"
#include "domain/uuid.h"

namespace ordinal {

std::string encode_order_cursor(const OrderCursor& cursor) {
    return base64url(cursor.created_at + "|" + cursor.order_id);
}

std::optional<OrderCursor> decode_order_cursor(std::string_view text) {
    if (text.empty() || text.size() > 256) return std::nullopt;
    auto raw = unbase64url(text);
    if (!raw) return std::nullopt;
    const auto bar = raw->find('|');
    if (bar == std::string::npos) return std::nullopt;
    OrderCursor c{raw->substr(0, bar), raw->substr(bar + 1)};
    if (c.created_at.size() != 24 || !canonical_uuid(c.order_id)) return std::nullopt;
    return c;
}

}  // namespace ordinal
