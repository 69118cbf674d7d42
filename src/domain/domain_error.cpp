#include "domain/domain_error.h"

namespace ordinal {

const char* error_code_name(DomainError::Code code) {
    switch (code) {
        case DomainError::Code::NotFound:
            return "not_found";
        case DomainError::Code::VersionConflict:
            return "version_conflict";
        case DomainError::Code::UnknownSku:
            return "unknown_sku";
        case DomainError::Code::InsufficientStock:
            return "insufficient_stock";
        case DomainError::Code::CurrencyMismatch:
            return "currency_mismatch";
        case DomainError::Code::AmountMismatch:
            return "amount_mismatch";
        case DomainError::Code::InvalidTransition:
            return "invalid_transition";
        case DomainError::Code::TotalOverflow:
            return "validation_failed";
    }
    return "rejected";
}

}  // namespace ordinal
