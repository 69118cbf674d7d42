#pragma once
#include <string>

namespace ordinal {

// One entry of a 400 validation_failed body's `details`: a field path in the request as the
// client wrote it ("items[2].qty", "idempotencyKey", "sku" for the path parameter) and why.
struct FieldError {
    std::string field;
    std::string message;
    bool operator==(const FieldError&) const = default;
};

}  // namespace ordinal
