#pragma once
#include <optional>
#include <string>

#include "ports/command_types.h"

namespace ordinal {

// A cache in front of the write store's idempotency records. An optimisation only: the write
// store's unique key stays authoritative, so a miss is always safe. Implementations never
// throw and treat their own failures as misses. Thread-safe.
class IdempotencyCache {
  public:
    virtual ~IdempotencyCache() = default;
    virtual std::optional<IdempotencyRecord> get(const std::string& key) = 0;
    virtual void put(const IdempotencyRecord& record) = 0;
    // Whether get() and put() may wait on I/O (a network cache). When they cannot, a front end
    // may run a command on the thread that parsed it instead of handing it to a blocking pool.
    virtual bool may_block() const { return true; }
};

}  // namespace ordinal
