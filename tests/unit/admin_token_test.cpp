// The admin token check (adapters/http/header_values.h): what matches, and that the comparison
// takes as long wherever the first difference is, so response timing cannot guide a guess byte by
// byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "adapters/http/header_values.h"

namespace ordinal {
namespace {

TEST(AdminToken, ConstantTimeEqualIsEquality) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
    EXPECT_FALSE(constant_time_equal("s3cret", "x3cret"));  // first byte
    EXPECT_FALSE(constant_time_equal("s3cret", "s3crex"));  // last byte
    EXPECT_FALSE(constant_time_equal("s3cret", "S3CRET"));  // case matters
    EXPECT_FALSE(constant_time_equal("s3cret", "s3cre"));   // a prefix
    EXPECT_FALSE(constant_time_equal("s3cre", "s3cret"));
    EXPECT_FALSE(constant_time_equal("", "s3cret"));
    EXPECT_FALSE(constant_time_equal(std::string("s3\0ret", 6), std::string("s3\0rex", 6)));
    EXPECT_TRUE(constant_time_equal(std::string("s3\0ret", 6), std::string("s3\0ret", 6)));
}

TEST(AdminToken, BearerTokenMatchesOnlyTheWholeToken) {
    const std::string token = "test-admin-token-7f3c";
    EXPECT_TRUE(bearer_token_matches("Bearer " + token, token));
    EXPECT_TRUE(bearer_token_matches("bearer " + token, token));  // the scheme is case-insensitive
    EXPECT_TRUE(bearer_token_matches("  Bearer   " + token + " ", token));
    for (const std::string& wrong :
         {std::string(), std::string("Bearer"), std::string("Bearer "), "Basic " + token, token,
          "Bearer " + token.substr(0, token.size() - 1), "Bearer " + token + "x",
          "Bearer x" + token, std::string("Bearer TEST-ADMIN-TOKEN-7F3C"),
          "Bearer " + token + ", Bearer x", "Bearer x, Bearer " + token, "Bearer\t" + token,
          "Bearer " + token + '\0'}) {
        EXPECT_FALSE(bearer_token_matches(wrong, token)) << wrong;
    }
    EXPECT_FALSE(bearer_token_matches(std::nullopt, token));
}

// The fastest of several runs of `f`: what the code costs, without the machine's noise.
template <class F>
std::chrono::nanoseconds fastest(F&& f) {
    auto best = std::chrono::nanoseconds::max();
    for (int i = 0; i < 31; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::steady_clock::now() - t0);
    }
    return best;
}

// Equal-length 1 MiB tokens differing at the first or at the last byte: an early exit would make
// the first ~1,000,000 times faster; a constant-time walk makes them the same. A factor of 4 is
// far outside either.
TEST(AdminToken, ComparisonTimeDoesNotDependOnWhereTheFirstDifferenceIs) {
    const std::string token(1 << 20, 'k');
    std::string first_differs = token;
    first_differs.front() = 'x';
    std::string last_differs = token;
    last_differs.back() = 'x';
    bool sink = false;
    const auto first = fastest([&] { sink ^= constant_time_equal(first_differs, token); });
    const auto last = fastest([&] { sink ^= constant_time_equal(last_differs, token); });
    EXPECT_FALSE(sink);
    EXPECT_LT(std::max(first, last).count(), 4 * std::min(first, last).count())
        << "first byte differs: " << first.count() << " ns, last byte differs: " << last.count()
        << " ns";

    // The same through the header check the request handler uses.
    const std::optional<std::string> first_header = "Bearer " + first_differs;
    const std::optional<std::string> last_header = "Bearer " + last_differs;
    const auto first_bearer = fastest([&] { sink ^= bearer_token_matches(first_header, token); });
    const auto last_bearer = fastest([&] { sink ^= bearer_token_matches(last_header, token); });
    EXPECT_FALSE(sink);
    EXPECT_LT(std::max(first_bearer, last_bearer).count(),
              4 * std::min(first_bearer, last_bearer).count())
        << "first byte differs: " << first_bearer.count()
        << " ns, last byte differs: " << last_bearer.count() << " ns";
}

}  // namespace
}  // namespace ordinal
