#pragma once
// Strict readers of command requests: HTTP path parameter + JSON body + Idempotency-Key header
// in, a validated CommandRequest out. They implement the contract's order of checks (docs/design.md
// "Commands"):
//
//   1. the body must be a well-formed JSON object            -> rejection with malformed = true
//   2. the idempotency key (header and/or `idempotencyKey`)   -> canonical key, or a field error
//   3. the fingerprint of the payload (computed from then on)
//   4. field validation, collecting every field error         -> rejection with details
//
// A rejection that carries a key and a fingerprint lets the caller ask the command service
// whether the key was already used (a repeat wins over a 400; see
// CommandService::answer_for_used_key) before it answers 400.
//
// Decisions the contract leaves open, fixed here:
// - An empty (or all-whitespace) body reads as `{}`, so `POST .../ship` with the key in the
//   header needs no body. Any other non-object body is malformed.
// - `stock` in PUT /v1/products/{sku} is required but nullable: null means unlimited. (The
//   contract marks optional fields with `?`, as in `expectedVersion?`; `stock` has none.)
// - `expectedVersion` may be absent or null (no version check), else an integer >= 0.
// - Duplicate member names in an object are malformed JSON; nesting is limited to
//   kMaxJsonDepth (32) levels.
// - Integers must be JSON integers that fit a signed 64-bit integer: 1.0, 1e2, "1" and true are
//   wrong types.
// - At most kMaxFieldErrors details are reported (the first ones, in field order).
// - The sku path parameter of PUT /v1/products/{sku} is validated like a field named "sku".
//
// Every function is pure, never throws on any input and is thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/field_error.h"
#include "domain/expected.h"
#include "ports/command_types.h"

namespace ordinal {

enum class CommandKind : std::uint8_t {
    UpsertProduct,
    PlaceOrder,
    PayOrder,
    ShipOrder,
    CancelOrder
};

// "upsert_product", "place_order", ... (the same names as command_name(const Command&)).
const char* command_kind_name(CommandKind kind);

inline constexpr std::size_t kMaxFieldErrors = 100;

struct CommandInput {
    CommandKind kind = CommandKind::PlaceOrder;
    // The path parameter: the sku (UpsertProduct) or the order id (Pay/Ship/Cancel; any case,
    // canonicalized here). Ignored for PlaceOrder.
    std::string_view target;
    std::string_view body;
    std::optional<std::string_view> idempotency_key_header;  // nullopt when the header is absent
};

struct CommandRejection {
    // True when step 1 failed: the body is not a well-formed JSON object. `details` then holds one
    // entry on field "body"; there is no key and no fingerprint.
    bool malformed = false;
    std::string message;                         // summary for the error body's `message`
    std::optional<std::string> idempotency_key;  // canonical, when step 2 succeeded
    std::optional<std::string> fingerprint;      // set whenever idempotency_key is
    std::vector<FieldError> details;             // never empty
};

// On success the request's key is canonical (lower case), its fingerprint identifies command
// type + target + body fields other than the key, and for PlaceOrder `order_id` is empty: the
// caller assigns a fresh id (it must not be part of the fingerprint, or repeats would differ).
Expected<CommandRequest, CommandRejection> read_command(const CommandInput& input);

}  // namespace ordinal
