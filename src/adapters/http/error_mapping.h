#pragma once
#include <functional>
// The one place where outcomes become HTTP statuses and bodies (docs/design.md "HTTP API v1"):
//
//   Acknowledgement          202 (accepted) / 200 (duplicate), X-Consistency-Token header;
//                            for POST /v1/orders also Location: /v1/orders/{orderId}
//   DomainError NotFound     404 not_found
//               VersionConflict 409 version_conflict (+currentVersion)
//               UnknownSku / InsufficientStock / CurrencyMismatch  422 (+sku)
//               AmountMismatch 422 amount_mismatch
//               InvalidTransition 422 invalid_transition (+from, to)
//               TotalOverflow 400 validation_failed, details on "items"
//   KeyReused                409 idempotency_key_reused
//   StoreError Overloaded    503 overloaded + Retry-After
//   StoreError other         503 unavailable + Retry-After (the store's message is never shown)
//   an exception             500 internal (its text is never shown)
//   every 503 (these, consistency_timeout, /readyz not ready, an admin request that failed on a
//   store, shutting down) carries Retry-After: json_answer adds it
#include <string>
#include <vector>

#include "adapters/http/http_types.h"
#include "codec/field_error.h"
#include "codec/response_json.h"
#include "ports/command_types.h"

namespace ordinal {

inline constexpr const char* kRetryAfterSeconds = "1";

HttpAnswer json_answer(unsigned status, std::string body);
HttpAnswer error_answer(unsigned status, const ErrorBody& body);
HttpAnswer error_answer(unsigned status, std::string code, std::string message);

HttpAnswer validation_failed(std::string message, std::vector<FieldError> details);
HttpAnswer not_found(std::string message = "no such resource");
HttpAnswer store_unavailable(const StoreError& error);  // 503 overloaded | unavailable

// Where store failures behind a 503 are logged (their messages may name SQL or paths, so they
// go to the operator, never to the client). Set once by the composition root before serving;
// at most one line per second is written, with a count of those left out.
void set_store_failure_log(std::function<void(const std::string&)> log);
HttpAnswer consistency_timeout();  // 503 consistency_timeout
HttpAnswer internal_error();       // 500 internal

// `place_order`: the answer to POST /v1/orders, which carries a Location header.
HttpAnswer answer_for_outcome(const CommandOutcome& outcome, bool place_order);
HttpAnswer answer_for_domain_error(const DomainError& error);

}  // namespace ordinal
