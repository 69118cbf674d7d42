#pragma once
// What an error body must never show (src/README.md "Error policy": internals are logged, never
// sent): SQL, store and driver names, file paths, result codes. Shared by the unit, crash and pg
// tiers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace ordinal::test {

inline std::string lower_case(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A body showing any of these gives internals away. Lower case.
inline const std::vector<std::string>& internal_markers() {
    // clang-format off
    static const std::vector<std::string> markers{
        "select ", "insert into", "delete from", "update ", "rollback", "savepoint", "sqlite",
        "postgres", "libpq", "sqlstate", "(code ", "errno", "/tmp", "/var", "/home", "/root", ".db",
        "disk i/o", "connection to server", "server closed", "terminating connection",
        "constraint", "exception", "std::", "what()"};
    // clang-format on
    return markers;
}

// `also`: markers of this test's own, e.g. its data directory.
inline ::testing::AssertionResult ShowsNoInternals(std::string_view body,
                                                   std::vector<std::string> also = {}) {
    also.insert(also.end(), internal_markers().begin(), internal_markers().end());
    const std::string text = lower_case(body);
    for (const auto& m : also) {
        if (text.find(lower_case(m)) != std::string::npos) {
            return ::testing::AssertionFailure() << "the body shows '" << m << "': " << body;
        }
    }
    return ::testing::AssertionSuccess();
}

}  // namespace ordinal::test
