#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace ordinal {

// A command that the domain rules reject. Carries the extra fields the HTTP contract exposes.
struct DomainError {
    enum class Code {
        NotFound,           // 404 not_found
        VersionConflict,    // 409 version_conflict (current_version)
        UnknownSku,         // 422 unknown_sku (sku)
        InsufficientStock,  // 422 insufficient_stock (sku)
        CurrencyMismatch,   // 422 currency_mismatch (sku)
        AmountMismatch,     // 422 amount_mismatch
        InvalidTransition,  // 422 invalid_transition (from, to)
        TotalOverflow,      // 400 validation_failed on field "items"
    };
    Code code = Code::NotFound;
    std::string message;
    std::optional<std::string> sku;
    std::optional<std::int64_t> current_version;
    std::optional<std::string> from;
    std::optional<std::string> to;
};

// The code's name on the wire and in metrics ("not_found", "version_conflict", ...): the one
// table, shared by the HTTP error body (adapters/http/error_mapping.cpp) and the command outcome
// label (ports/command_types.h).
const char* error_code_name(DomainError::Code code);

}  // namespace ordinal
