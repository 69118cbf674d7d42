// core/bounded_probe.h: callers wait for a probe at most its bound, and a probe that hangs runs
// once, however many callers come meanwhile.
#include "core/bounded_probe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ordinal {
namespace {

using namespace std::chrono_literals;

// A probe that answers its run number, and hangs while `held`.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool held = false;
    std::atomic<int> runs{0};

    int probe() {
        const int n = ++runs;
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !held; });
        return n;
    }
    void hold(bool on) {
        {
            std::lock_guard lock(mu);
            held = on;
        }
        cv.notify_all();
    }
};

TEST(BoundedProbe, AnswersWhileTheProbeAnswersAndRunsItAnewForEachCaller) {
    Gate gate;
    BoundedProbe<int> probe([&] { return gate.probe(); }, 2s);
    EXPECT_EQ(probe.get(), 1);
    EXPECT_EQ(probe.get(), 2);
    EXPECT_EQ(probe.running_for(), std::chrono::steady_clock::duration::zero());
}

TEST(BoundedProbe, AHangingProbeCostsEachCallerTheBoundAndRunsOnce) {
    Gate gate;
    gate.hold(true);
    BoundedProbe<int> probe([&] { return gate.probe(); }, 200ms);
    for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        EXPECT_FALSE(probe.get().has_value());
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_GE(took, 190ms);
        EXPECT_LT(took, 2s);
    }
    EXPECT_EQ(gate.runs.load(), 1) << "callers started runs beside the hanging one";
    EXPECT_GE(probe.running_for(), 500ms);
    gate.hold(false);
    // The hanging run's answer (or, if it ended before this call, a fresh run's), then fresh
    // runs again.
    const auto after = probe.get();
    ASSERT_TRUE(after.has_value());
    EXPECT_LE(*after, 2);
    EXPECT_EQ(probe.get(), *after + 1);
}

}  // namespace
}  // namespace ordinal
