#include "ports/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "core/periodic_task.h"

namespace ordinal {
namespace {

std::string this_thread_name() {
    char name[16] = {};
    EXPECT_EQ(pthread_getname_np(pthread_self(), name, sizeof name), 0);
    return name;
}

TEST(ThreadName, NamesTheCallingThread) {
    std::thread([] {
        name_this_thread("relay-marker");
        EXPECT_EQ(this_thread_name(), "relay-marker");
    }).join();
}

TEST(ThreadName, KeepsTheFirstFifteenBytesOfALongerName) {
    std::thread([] {
        name_this_thread("a-name-longer-than-the-kernel-keeps");
        EXPECT_EQ(this_thread_name(), "a-name-longer-t");
    }).join();
}

TEST(ThreadName, APeriodicTaskRunsOnAThreadOfTheNameItWasGiven) {
    std::promise<std::string> seen;
    auto name = seen.get_future();
    bool first = true;
    PeriodicTask task("heartbeat", std::chrono::hours(1), [&] {
        if (first) seen.set_value(this_thread_name());
        first = false;
    });
    ASSERT_EQ(name.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(name.get(), "heartbeat");
}

}  // namespace
}  // namespace ordinal
