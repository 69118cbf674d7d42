#pragma once
#include <string>

namespace ordinal {

// A failure of infrastructure (not of the command). `retryable` failures are worth another try
// later (store or bus down, busy, overloaded); permanent ones are bugs or corrupt data. Fenced:
// a projection transaction of a projector whose partition another projector has claimed since
// (ReadStore::claim_partition) was refused and wrote nothing; trying again cannot help.
struct StoreError {
    enum class Kind { Unavailable, Overloaded, Timeout, Internal, Fenced };
    Kind kind = Kind::Internal;
    std::string message;  // for logs only; never shown to clients
    bool retryable() const { return kind != Kind::Internal && kind != Kind::Fenced; }
};

}  // namespace ordinal
