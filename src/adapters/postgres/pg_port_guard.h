#pragma once
// Twin of sqlite_port_guard.h on purpose: the port guard in PostgreSQL's dialect and client library
// (docs/building.md#repeated-code).
// This folder's port boundary: ordinal::guard_port with "postgres" as the origin.
#include <utility>

#include "ports/port_guard.h"

namespace ordinal::pg {

template <class F>
auto guard_port(F&& body) noexcept {
    return ordinal::guard_port("postgres", std::forward<F>(body));
}

}  // namespace ordinal::pg
