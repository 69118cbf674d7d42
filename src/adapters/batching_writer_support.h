#pragma once
// What the write stores' batching writers (postgres/pg_batching_writer, sqlite/
// sqlite_batching_writer) share: how they judge a command's outcome and hand it back. Header-only
// and library-free, so both adapters include it without including each other.
#include <variant>

#include "ports/command_types.h"

namespace ordinal::writer_support {

// Whether the command's effects stay in the transaction (anything else is rolled back).
inline bool accepted(const CommandOutcome& outcome) {
    return std::holds_alternative<Acknowledgement>(outcome);
}

// Callbacks belong to callers; one that throws must not take the writer thread down.
template <class F>
void call_quietly(F&& f) noexcept {
    try {
        f();
    } catch (...) {
    }
}

}  // namespace ordinal::writer_support
