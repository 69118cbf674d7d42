#pragma once
#include <cstddef>
#include <memory>

#include "ports/idempotency_cache.h"

namespace ordinal {

// The in-process idempotency cache: the most recently completed `capacity` commands.
std::unique_ptr<IdempotencyCache> make_lru_idempotency_cache(std::size_t capacity);

}  // namespace ordinal
