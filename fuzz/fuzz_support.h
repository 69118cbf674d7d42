#pragma once
// Shared helpers of the fuzz targets: a failing property aborts (libFuzzer saves the input as a
// crash), and the invariants every accepted command must satisfy (docs/design.md "Domain" and
// "HTTP API v1", codec/command_json.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "codec/command_json.h"
#include "domain/commands.h"
#include "domain/text.h"
#include "domain/uuid.h"
#include "domain/validation.h"

namespace ordinal::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what, std::string_view detail) {
    std::fprintf(stderr, "\n*** fuzz property violated at %s:%d: %s\n", file, line, what);
    if (!detail.empty()) {
        std::fprintf(stderr, "*** detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
    }
    std::abort();
}

#define FUZZ_CHECK(cond, detail)                                                                  \
    do {                                                                                          \
        if (!(cond)) ::ordinal::fuzz::fail(__FILE__, __LINE__, #cond, (detail));                   \
    } while (false)

// Consumes bytes up to (not including) the next '\n'; the whole rest when there is none.
inline std::string_view take_line(std::string_view& in) {
    const auto nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

inline bool is_canonical_uuid(std::string_view s) {
    const auto c = canonical_uuid(s);
    return c && *c == s;
}

inline bool text_within(std::string_view s, std::size_t max_code_points) {
    const auto n = utf8_code_points(s);
    return n && *n >= 1 && *n <= max_code_points;
}

inline bool is_lower_hex(std::string_view s) {
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// The documented ranges of every field of an accepted command, its key and fingerprint.
// `target` is the path parameter the command was read with (ignored for PlaceOrder).
inline void check_command_request(const CommandRequest& r, CommandKind kind, std::string_view target) {
    FUZZ_CHECK(is_canonical_uuid(r.idempotency_key), r.idempotency_key);
    const std::string prefix = std::string(command_kind_name(kind)) + ":";
    FUZZ_CHECK(r.fingerprint.size() == prefix.size() + 64 &&
                   r.fingerprint.compare(0, prefix.size(), prefix) == 0 &&
                   is_lower_hex(std::string_view(r.fingerprint).substr(prefix.size())),
               r.fingerprint);
    FUZZ_CHECK(std::string_view(command_name(r.command)) == command_kind_name(kind),
               command_name(r.command));
    std::visit(
        [&](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, UpsertProduct>) {
                FUZZ_CHECK(!check_sku(c.sku), c.sku);
                FUZZ_CHECK(c.sku == target, c.sku);
                FUZZ_CHECK(text_within(c.name, 200), c.name);
                FUZZ_CHECK(!check_currency(c.currency), c.currency);
                FUZZ_CHECK(c.price_minor >= 0, std::to_string(c.price_minor));
                FUZZ_CHECK(!c.stock || *c.stock >= 0, std::to_string(c.stock.value_or(0)));
            } else if constexpr (std::is_same_v<T, PlaceOrder>) {
                FUZZ_CHECK(c.order_id.empty(), c.order_id);  // assigned by the caller
                FUZZ_CHECK(is_canonical_uuid(c.user_id), c.user_id);
                FUZZ_CHECK(!check_currency(c.currency), c.currency);
                FUZZ_CHECK(c.items.size() >= 1 && c.items.size() <= kMaxOrderItems,
                           std::to_string(c.items.size()));
                for (std::size_t i = 0; i < c.items.size(); ++i) {
                    FUZZ_CHECK(!check_sku(c.items[i].sku), c.items[i].sku);
                    FUZZ_CHECK(c.items[i].qty >= 1 && c.items[i].qty <= kMaxItemQty,
                               std::to_string(c.items[i].qty));
                    for (std::size_t j = 0; j < i; ++j) {
                        FUZZ_CHECK(c.items[i].sku != c.items[j].sku, c.items[i].sku);
                    }
                }
            } else {
                FUZZ_CHECK(is_canonical_uuid(c.order_id), c.order_id);
                FUZZ_CHECK(canonical_uuid(target) == c.order_id, c.order_id);
                FUZZ_CHECK(!c.expected_version || *c.expected_version >= 0,
                           std::to_string(c.expected_version.value_or(0)));
                if constexpr (std::is_same_v<T, PayOrder>) {
                    FUZZ_CHECK(text_within(c.payment_ref, 200), c.payment_ref);
                    FUZZ_CHECK(c.amount_minor >= 0, std::to_string(c.amount_minor));
                } else if constexpr (std::is_same_v<T, CancelOrder>) {
                    FUZZ_CHECK(text_within(c.reason, 500), c.reason);
                }
            }
        },
        r.command);
}

}  // namespace ordinal::fuzz
