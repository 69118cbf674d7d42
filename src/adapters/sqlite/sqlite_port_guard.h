#pragma once
// Twin of pg_port_guard.h on purpose: the port guard in SQLite's dialect and client library
// (docs/building.md#repeated-code).
// This folder's port boundary: ordinal::guard_port with "sqlite" as the origin.
#include <utility>

#include "ports/port_guard.h"

namespace ordinal::sqlite {

template <class F>
auto guard_port(F&& body) noexcept {
    return ordinal::guard_port("sqlite", std::forward<F>(body));
}

}  // namespace ordinal::sqlite
