#pragma once
// This folder's port boundary: ordinal::guard_port with "sqlite" as the origin.
#include <utility>

#include "ports/port_guard.h"

namespace ordinal::sqlite {

template <class F>
auto guard_port(F&& body) noexcept {
    return ordinal::guard_port("sqlite", std::forward<F>(body));
}

}  // namespace ordinal::sqlite
