#pragma once
// Identifier generation for the bench tools: RFC 4122/9562 UUIDs from a per-thread PRNG.
//
// The bench tools do not link the service library, so they carry their own few lines here. A
// seeded PRNG (not std::random_device per call) keeps id generation off the measured hot path.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace ordinal::bench {

class IdGenerator {
  public:
    explicit IdGenerator(std::uint64_t seed) : rng_(seed) {}

    // A random (version 4) UUID, lower-case canonical form.
    std::string uuid_v4() {
        std::uint64_t hi = rng_();
        std::uint64_t lo = rng_();
        hi = (hi & ~std::uint64_t{0xF000}) | 0x4000;                           // version 4
        lo = (lo & ~(std::uint64_t{0xC} << 60)) | (std::uint64_t{0x8} << 60);  // RFC 4122 variant
        return format(hi, lo);
    }

    // A time-ordered (version 7) UUID: 48-bit Unix milliseconds, then random bits. Used where the
    // service itself would use v7 (event ids), so index locality in the raw baseline matches.
    std::string uuid_v7() {
        const auto ms =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
        std::uint64_t hi = (ms << 16) | (rng_() & 0x0FFF) | 0x7000;  // version 7
        std::uint64_t lo = (rng_() & ~(std::uint64_t{0xC} << 60)) | (std::uint64_t{0x8} << 60);
        return format(hi, lo);
    }

    std::uint64_t next() { return rng_(); }
    std::mt19937_64& engine() { return rng_; }

  private:
    static std::string format(std::uint64_t hi, std::uint64_t lo) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out(36, '-');
        std::size_t pos = 0;
        auto put = [&](std::uint64_t word, int nibbles_from, int nibbles_to) {
            for (int i = nibbles_from; i < nibbles_to; ++i) {
                if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
                out[pos++] = kHex[(word >> (60 - 4 * i)) & 0xF];
            }
        };
        put(hi, 0, 16);
        put(lo, 0, 16);
        return out;
    }

    std::mt19937_64 rng_;
};

// A seed that differs between threads and runs, taken once per generator.
inline std::uint64_t fresh_seed() {
    thread_local std::random_device device;  // only used to seed, never per id
    return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
           static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace ordinal::bench
