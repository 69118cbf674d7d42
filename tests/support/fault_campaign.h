#pragma once
// The shape every scenario of the fault campaign (tests/faults/) shares: client load through the
// HTTP API (OrderLoad) while the scenario injects its fault a few times, then the load stops,
// every unanswered command is settled, and two independent judges must both find nothing:
//   - the clients' own check (OrderLoad::check: every acknowledged command visible exactly as
//     acknowledged, every retried key a duplicate of it, stock and user lists exact);
//   - `ordinal verify` over the stores (exit 0, and a read model that lacks no event).
// Soak mode: ORDINAL_SOAK_SECONDS=N repeats such rounds for N seconds, each with load of its own
// (so the clients' memory and the check stay bounded) over the same, growing stores.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/order_load.h"
#include "support/scratch_dir.h"
#include "support/verify_run.h"

namespace ordinal::test {

// The soak time from ORDINAL_SOAK_SECONDS (0 when unset: one round, the bounded CTest run).
inline std::chrono::seconds soak_time() {
    const char* v = std::getenv("ORDINAL_SOAK_SECONDS");
    return std::chrono::seconds(v && *v ? std::atoi(v) : 0);
}

class FaultScenario : public ::testing::Test {
  protected:
    using Clock = std::chrono::steady_clock;

    void TearDown() override {
        if (load_) load_->stop();
        // ORDINAL_SHOW_LOGS=1 shows them after a passing scenario too (its timings).
        if ((HasFailure() || std::getenv("ORDINAL_SHOW_LOGS")) && process_logs_)
            std::cerr << process_logs_();
    }

    void pause(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
    // A pause of `ms` plus up to half as much again, so faults land at varied points.
    void pause_about(int ms) { pause(ms + static_cast<int>(test_rng()() % (ms / 2 + 1))); }

    // The scenario: load while `cycle` injects the fault `cycles` times (each cycle leaves the
    // system whole again), a second of load after the last one, then settling and both judges
    // over the stores `store_args` name. At least `min_acknowledged` orders must get through in
    // a round, or it proves little. Soak mode repeats rounds until the soak time is over.
    void run_rounds(int cycles, const std::function<void(int cycle)>& cycle,
                    const std::vector<std::string>& store_args, std::size_t min_acknowledged) {
        const auto soak_end = Clock::now() + soak_time();
        for (int round = 1;; ++round) {
            load_ = std::make_unique<OrderLoad>([this] { return api_port_.load(); });
            load_->start();
            const auto started = Clock::now();
            last_cycle_ = false;
            int ran = 0;
            while (ran < cycles && !last_cycle_) {
                cycle(ran++);
                if (HasFatalFailure()) return;
            }
            const auto faults_took = Clock::now() - started;
            pause(1000);
            std::cout << "round " << round << ": " << ran << " of " << cycles << " fault cycles in "
                      << ms(faults_took) << " ms\n";
            expect_settled_and_clean(store_args, min_acknowledged);
            if (HasFailure() || Clock::now() >= soak_end) return;
        }
    }

    // From a cycle: the round's fault cycles end with this one (the scenario saw what it came
    // for in fewer than it allowed itself).
    void last_cycle_of_round() { last_cycle_ = true; }

    // Orders acknowledged so far in the running round (a scenario's throughput).
    std::size_t orders_acknowledged() { return load_ ? load_->acknowledged() : 0; }

    // The port of the API process now; scenarios move it on every restart.
    std::atomic<std::uint16_t> api_port_{0};
    ScratchDir logs_{"ordinal-faults"};
    // What to print when the scenario fails: the processes' logs.
    std::function<std::string()> process_logs_;

  private:
    bool last_cycle_ = false;

    static long long ms(Clock::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    }

    // Stops the load, settles it, and has both judges look.
    void expect_settled_and_clean(const std::vector<std::string>& store_args,
                                  std::size_t min_acknowledged) {
        load_->stop();
        const auto stopped = Clock::now();
        const auto problems = load_->check();
        const auto checked = Clock::now();
        std::size_t shown = 0;
        for (const auto& p : problems) {
            if (++shown > 30) break;
            ADD_FAILURE() << p;
        }
        EXPECT_TRUE(problems.empty()) << problems.size() << " client-side problems";
        EXPECT_GE(load_->acknowledged(), min_acknowledged)
            << "too little load got through to prove anything";

        const VerifyRun run = run_verify(store_args, logs_.path() + "/verify.log");
        const auto verified = Clock::now();
        EXPECT_EQ(run.code, 0) << run;
        ASSERT_TRUE(run.report.is_object()) << run;
        // Every command was settled and read back with its token: nothing may still be behind.
        EXPECT_EQ(run.report["lag"]["events"], 0) << run;
        EXPECT_GE(run.report["eventsChecked"].get<std::size_t>(), load_->acknowledged()) << run;
        std::cout << "  " << load_->summary() << "\n  client check " << ms(checked - stopped)
                  << " ms; verify " << ms(verified - checked) << " ms, "
                  << run.report["eventsChecked"] << " events checked, "
                  << run.report["findingsTotal"] << " findings\n";
    }

    std::unique_ptr<OrderLoad> load_;
};

}  // namespace ordinal::test
