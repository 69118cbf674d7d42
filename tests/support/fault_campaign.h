#pragma once
// The shape every scenario of the fault campaign (tests/faults/) shares: client load through the
// HTTP API (OrderLoad) while the scenario injects its fault again and again, then the load stops,
// every unanswered command is settled, and two independent judges must both find nothing:
//   - the clients' own check (OrderLoad::check: every acknowledged command visible exactly as
//     acknowledged, every retried key a duplicate of it, stock and user lists exact);
//   - `ordinal verify` over the stores (exit 0, and a read model that lacks no event).
// Soak mode: ORDINAL_SOAK_SECONDS=N keeps injecting faults for N seconds instead of the few cycles
// a CTest run takes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support/order_load.h"
#include "support/scratch_dir.h"
#include "support/verify_run.h"

namespace ordinal::test {

// The soak time from ORDINAL_SOAK_SECONDS (0 when unset: the bounded CTest run).
inline std::chrono::seconds soak_time() {
    const char* v = std::getenv("ORDINAL_SOAK_SECONDS");
    return std::chrono::seconds(v && *v ? std::atoi(v) : 0);
}

class FaultScenario : public ::testing::Test {
  protected:
    void TearDown() override {
        load_.stop();
        if (HasFailure() && process_logs_) std::cerr << process_logs_();
    }

    void pause(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
    // A pause of `ms` plus up to half as much again, so faults land at varied points.
    void pause_about(int ms) { pause(ms + static_cast<int>(test_rng()() % (ms / 2 + 1))); }

    // Runs one fault cycle `cycles` times, then on until the soak time is over.
    void inject(int cycles, const std::function<void(int cycle)>& cycle) {
        const auto started = std::chrono::steady_clock::now();
        const auto soak_end = started + soak_time();
        for (cycles_ = 0; cycles_ < cycles || std::chrono::steady_clock::now() < soak_end;
             ++cycles_) {
            cycle(cycles_);
            faults_took_ = std::chrono::steady_clock::now() - started;
            if (HasFatalFailure()) return;
        }
    }

    // Stops the load, settles it, and has both judges look: the client-side check and `ordinal
    // verify` over the stores `store_args` name. At least `min_acknowledged` orders must have got
    // through, or the run proves little.
    void expect_settled_and_clean(const std::vector<std::string>& store_args,
                                  std::size_t min_acknowledged) {
        load_.stop();
        const auto stopped = std::chrono::steady_clock::now();
        const auto problems = load_.check();
        const auto checked = std::chrono::steady_clock::now();
        std::size_t shown = 0;
        for (const auto& p : problems) {
            if (++shown > 30) break;
            ADD_FAILURE() << p;
        }
        EXPECT_TRUE(problems.empty()) << problems.size() << " client-side problems";
        EXPECT_GE(load_.acknowledged(), min_acknowledged)
            << "too little load got through to prove anything";

        const VerifyRun run = run_verify(store_args, logs_.path() + "/verify.log");
        const auto verified = std::chrono::steady_clock::now();
        EXPECT_EQ(run.code, 0) << run;
        ASSERT_TRUE(run.report.is_object()) << run;
        // Every command was settled and read back with its token: nothing may still be behind.
        EXPECT_EQ(run.report["lag"]["events"], 0) << run;
        EXPECT_GE(run.report["eventsChecked"].get<std::size_t>(), load_.acknowledged()) << run;
        const auto ms = [](auto d) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        };
        std::cout << cycles_ << " fault cycles in " << ms(faults_took_) << " ms; "
                  << load_.summary() << "\nclient check " << ms(checked - stopped)
                  << " ms; verify " << ms(verified - checked) << " ms, "
                  << run.report["eventsChecked"] << " events checked, "
                  << run.report["findingsTotal"] << " findings\n";
    }

    ScratchDir logs_{"ordinal-faults"};
    // The port of the API process now; scenarios move it on every restart.
    std::atomic<std::uint16_t> api_port_{0};
    OrderLoad load_{[this] { return api_port_.load(); }};
    // What to print when the scenario fails: the processes' logs.
    std::function<std::string()> process_logs_;
    int cycles_ = 0;
    std::chrono::steady_clock::duration faults_took_{};
};

}  // namespace ordinal::test
