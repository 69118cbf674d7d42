#pragma once
// A log-bucketed latency histogram with microsecond resolution, shared by the bench tools.
//
// Values below 2^kSubBits µs get one bucket each (exact); above that every power of two is split
// into 2^(kSubBits-1) equal buckets, so a reported percentile is never more than ~0.8% above the
// true value. This is the HdrHistogram layout, small enough (a few KiB) to keep one per thread and
// merge at the end, so recording is a plain increment with no atomics or allocation.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ordinal::bench {

class LatencyHistogram {
  public:
    static constexpr int kSubBits = 8;
    static constexpr std::uint64_t kExactLimit = std::uint64_t{1} << kSubBits;        // 256 µs
    static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << (kSubBits - 1);  // per octave
    static constexpr int kMaxShift = 64 - kSubBits;
    static constexpr std::size_t kBuckets = kExactLimit + kMaxShift * kSubBuckets;

    void record(std::uint64_t micros) {
        ++counts_[index_of(micros)];
        ++total_;
        sum_ += micros;
        min_ = std::min(min_, micros);
        max_ = std::max(max_, micros);
    }

    void merge(const LatencyHistogram& other) {
        for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
        total_ += other.total_;
        sum_ += other.sum_;
        min_ = std::min(min_, other.min_);
        max_ = std::max(max_, other.max_);
    }

    std::uint64_t count() const { return total_; }
    std::uint64_t max() const { return total_ ? max_ : 0; }
    std::uint64_t min() const { return total_ ? min_ : 0; }
    double mean() const {
        return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
    }

    // The smallest recorded bucket's upper bound at or below which a fraction `q` of the samples
    // lie (q in [0, 1]); reporting the upper bound errs on the pessimistic side.
    std::uint64_t percentile(double q) const {
        if (total_ == 0) return 0;
        const auto rank = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_))));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper_bound_of(i), max_);
        }
        return max_;
    }

  private:
    static std::size_t index_of(std::uint64_t v) {
        if (v < kExactLimit) return static_cast<std::size_t>(v);
        const int shift = std::bit_width(v) - kSubBits;  // >= 1 here
        const std::uint64_t mantissa = v >> shift;       // in [kSubBuckets, 2 * kSubBuckets)
        return static_cast<std::size_t>(kExactLimit +
                                        static_cast<std::uint64_t>(shift - 1) * kSubBuckets +
                                        (mantissa - kSubBuckets));
    }

    static std::uint64_t upper_bound_of(std::size_t index) {
        if (index < kExactLimit) return index;
        const std::uint64_t offset = index - kExactLimit;
        const auto shift = static_cast<int>(offset / kSubBuckets) + 1;
        const std::uint64_t mantissa = offset % kSubBuckets + kSubBuckets;
        // The very last bucket's bound is 2^64, which does not fit: saturate instead of wrapping.
        if (shift == kMaxShift && mantissa + 1 == 2 * kSubBuckets)
            return std::numeric_limits<std::uint64_t>::max();
        return ((mantissa + 1) << shift) - 1;
    }

    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_ = 0;
};

}  // namespace ordinal::bench
