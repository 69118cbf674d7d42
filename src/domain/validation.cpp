#include "domain/validation.h"

#include "domain/money.h"
#include "domain/text.h"
#include "domain/uuid.h"

namespace ordinal {
namespace {

// Control characters are refused before any store sees them: PostgreSQL cannot keep a NUL in
// text (it would store the value cut short), and no profile should keep what another refuses.
// Tab, line feed and carriage return stay allowed (a reason may span lines).
bool is_refused_control(unsigned char c) {
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
}

std::optional<std::string> check_text(std::string_view s, std::size_t max) {
    const auto n = utf8_code_points(s);
    if (!n) return "must be valid UTF-8";
    if (*n < 1 || *n > max) return "must be 1 to " + std::to_string(max) + " characters";
    // UTF-8 continuation and lead bytes are all >= 0x80, so a byte scan finds exactly the
    // control code points.
    for (const char c : s) {
        if (is_refused_control(static_cast<unsigned char>(c))) {
            return "must not contain control characters (U+0000 to U+001F other than tab, line "
                   "feed and carriage return, or U+007F)";
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_sku(std::string_view sku) {
    if (sku.empty() || sku.size() > 64) return "must be 1 to 64 characters of [A-Za-z0-9._-]";
    for (char c : sku) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return "must be 1 to 64 characters of [A-Za-z0-9._-]";
    }
    return std::nullopt;
}

std::optional<std::string> check_name(std::string_view name) {
    return check_text(name, 200);
}
std::optional<std::string> check_payment_ref(std::string_view ref) {
    return check_text(ref, 200);
}
std::optional<std::string> check_reason(std::string_view reason) {
    return check_text(reason, 500);
}

std::optional<std::string> check_currency(std::string_view code) {
    if (!is_currency_code(code)) return "must be an ISO-4217 code of three upper-case letters";
    return std::nullopt;
}

std::optional<std::string> check_non_negative(std::int64_t value) {
    if (value < 0) return "must be an integer >= 0";
    return std::nullopt;
}

std::optional<std::string> check_qty(std::int64_t qty) {
    if (qty < 1 || qty > kMaxItemQty) return "must be an integer from 1 to 10000";
    return std::nullopt;
}

std::optional<std::string> check_uuid(std::string_view id) {
    if (!canonical_uuid(id)) return "must be a UUID";
    return std::nullopt;
}

}  // namespace ordinal
