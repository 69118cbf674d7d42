#pragma once
#include <cstdint>
#include <string>

namespace ordinal {

// Wall-clock time and fresh identifiers; injected so tests can fix them.
// Implementations must be safe to call from any thread.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual std::int64_t unix_ms() const = 0;
};

// Thread-safe: writers on several threads draw ids at once.
class IdGenerator {
  public:
    virtual ~IdGenerator() = default;
    virtual std::string new_uuid_v7() = 0;
};

}  // namespace ordinal
