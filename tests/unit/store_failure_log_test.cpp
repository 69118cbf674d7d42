// Store failures behind a 503 reach the operator's log (the client sees none of it), at most a
// line a second so that a database outage cannot flood the log.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "adapters/http/error_mapping.h"

namespace ordinal {
namespace {

TEST(StoreFailureLog, FailuresAreLoggedOncePerSecondWithACountOfTheRest) {
    std::vector<std::string> lines;
    set_store_failure_log([&lines](const std::string& line) { lines.push_back(line); });
    const StoreError down{StoreError::Kind::Unavailable,
                          "connection to server at /var/run/pg failed"};
    const HttpAnswer a = store_unavailable(down);
    EXPECT_EQ(a.status, 503u);
    EXPECT_EQ(a.body.find("/var/run/pg"), std::string::npos) << "the client is told nothing of it";
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("/var/run/pg"), std::string::npos) << lines[0];

    for (int i = 0; i < 5; ++i) store_unavailable(down);
    EXPECT_EQ(lines.size(), 1u) << "within the second, failures are counted, not written";
    store_unavailable(StoreError{StoreError::Kind::Overloaded, "queue full"});  // not a failure
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    store_unavailable(down);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[1].find("(5 more since the last line)"), std::string::npos) << lines[1];
    set_store_failure_log({});
}

}  // namespace
}  // namespace ordinal
