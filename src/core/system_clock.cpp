#include "core/system_clock.h"

#include <array>
#include <chrono>

#include "domain/uuid.h"

namespace ordinal {

std::int64_t SystemClock::unix_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

RandomIdGenerator::RandomIdGenerator(const Clock& clock) : clock_(clock) {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    rng_.seed(seq);
}

std::string RandomIdGenerator::new_uuid_v7() {
    std::array<std::uint8_t, 10> random{};
    {
        std::lock_guard lock(mu_);
        const std::uint64_t a = rng_();
        const std::uint64_t b = rng_();
        for (int i = 0; i < 8; ++i) random[i] = static_cast<std::uint8_t>(a >> (8 * i));
        random[8] = static_cast<std::uint8_t>(b);
        random[9] = static_cast<std::uint8_t>(b >> 8);
    }
    return make_uuid_v7(static_cast<std::uint64_t>(clock_.unix_ms()), random);
}

}  // namespace ordinal
