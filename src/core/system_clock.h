#pragma once
#include <mutex>
#include <random>

#include "domain/thread_annotations.h"
#include "ports/clock.h"

namespace ordinal {

class SystemClock final : public Clock {
  public:
    std::int64_t unix_ms() const override;
};

// UUIDv7 from the wall clock and a per-generator random engine seeded from std::random_device.
class RandomIdGenerator final : public IdGenerator {
  public:
    explicit RandomIdGenerator(const Clock& clock);
    std::string new_uuid_v7() override;

  private:
    const Clock& clock_;
    std::mutex mu_;
    std::mt19937_64 rng_ GUARDED_BY(mu_);
};

}  // namespace ordinal
