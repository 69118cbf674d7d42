// A relay cut off from PostgreSQL while it keeps running, and a relay stopped (SIGSTOP) past the
// failover bound, each with a second relay waiting, under load. Relays run with their projector
// (the in-process bus) on hosts r1 and r2; the api process runs beside the test.
#include <signal.h>

#include "partition/partition_scenario.h"

namespace ordinal::test {
namespace {

// The documented bounds (docs/operations.md, timeouts and failover), each with slack for a loaded
// machine, and the waiting relay takes the partitions at its next one-second refresh:
// - cut off: the server drops a silent session within about 20 s (keepalive after 10 s idle,
//   15 s tcp_user_timeout);
// - stopped: its kernel still answers keepalives, so the server ends the lease session when it
//   has been idle 30 s (idle_session_timeout on the lease session).
constexpr auto kCutBound = std::chrono::seconds(25);
constexpr auto kStopBound = std::chrono::seconds(36);
constexpr int kPartitions = 16;  // --outbox-partitions default

class RelayPartition : public PartitionScenario {
  protected:
    RelayPartition() : PartitionScenario({"r1", "r2"}) {}

    void SetUp() override {
        ASSERT_NO_THROW(serve("api", "root", "api"));
        api_port_ = processes_["api"]->port();
        ASSERT_NO_THROW(serve("relay-1", "r1", "relay,projector"));
        ASSERT_NO_THROW(serve("relay-2", "r2", "relay,projector"));
        // Both relays hold their share before the fault, so the cut one has something to lose.
        ASSERT_TRUE(eventually([&] { return partitions_on("r1") > 0 && partitions_on("r2") > 0; },
                               std::chrono::seconds(20), Ms(100)))
            << "relays never shared the partitions";
    }

    // Waits until relay 2 holds every partition and relay 1's session is gone at the server;
    // returns how long after `from` each happened.
    std::pair<Clock::duration, Clock::duration> wait_takeover(Clock::time_point from,
                                                              Clock::duration bound) {
        std::optional<Clock::duration> dropped, taken;
        while (Clock::now() - from < bound + std::chrono::seconds(20)) {
            const auto held = partition_holders();
            const auto r1 = held.find(hosts_.address("r1"));
            const auto r2 = held.find(hosts_.address("r2"));
            if (!dropped && r1 == held.end()) dropped = Clock::now() - from;
            if (!taken && r2 != held.end() && r2->second == kPartitions)
                taken = Clock::now() - from;
            // A partition is never held twice (two owners would publish one stream twice over).
            int total = 0;
            for (const auto& [addr, n] : held) total += n;
            EXPECT_LE(total, kPartitions);
            if (dropped && taken) break;
            pause(100);
        }
        if (!dropped || !taken) {
            ADD_FAILURE() << "no takeover within " << ms_since(from) << " ms";
            return {Clock::duration::max(), Clock::duration::max()};
        }
        return {*dropped, *taken};
    }

    // The relay that came back holds partitions only through a session it opened since: the old
    // one, and the lease it carried, are gone for good.
    void expect_new_session(const std::set<std::int64_t>& old_sessions) {
        for (const std::int64_t pid : lease_sessions("r1"))
            EXPECT_EQ(old_sessions.count(pid), 0u) << "server process " << pid << " came back";
    }
};

TEST_F(RelayPartition, CutOffRelayLosesItsPartitionsWithinTheBoundAndPublishesNothingStale) {
    run_rounds(
        1,
        [&](int) {
            pause(2000);
            const auto before = lease_sessions("r1");
            ASSERT_FALSE(before.empty());
            const auto cut = Clock::now();
            hosts_.cut("r1");
            const auto [dropped, taken] = wait_takeover(cut, kCutBound);
            measured("relay cut off: server dropped its session after", dropped);
            measured("relay cut off: second relay held every partition after", taken);
            EXPECT_LE(taken, kCutBound);
            // Orders keep flowing on the second relay alone for a while, then the link comes
            // back: the old relay finds its session dead and must start over with a new lease,
            // never publish what it fetched before the cut over what was published since.
            pause(3000);
            hosts_.heal("r1");
            const auto healed = Clock::now();
            ASSERT_TRUE(eventually([&] { return partitions_on("r1") > 0; },
                                   std::chrono::seconds(60), Ms(100)))
                << "the healed relay never rejoined";
            measured("relay healed: it held partitions again (a new session) after",
                     Clock::now() - healed);
            expect_new_session(before);
            ASSERT_TRUE(processes_["relay-1"]->child()->running());
        },
        store_args_, 50);
}

TEST_F(RelayPartition, StoppedRelayPastTheBoundThenContinuedBreaksNoOrder) {
    run_rounds(
        1,
        [&](int) {
            pause(2000);
            ChildProcess& r1 = *processes_["relay-1"]->child();
            const auto before = lease_sessions("r1");
            ASSERT_FALSE(before.empty());
            const auto stopped = Clock::now();
            ::kill(r1.pid(), SIGSTOP);
            const auto [dropped, taken] = wait_takeover(stopped, kStopBound);
            measured("relay stopped: server dropped its session after", dropped);
            measured("relay stopped: second relay held every partition after", taken);
            EXPECT_LE(taken, kStopBound);
            pause(2000);
            // Continued, it wakes up with whatever batch it had in hand.
            ::kill(r1.pid(), SIGCONT);
            const auto continued = Clock::now();
            ASSERT_TRUE(eventually([&] { return partitions_on("r1") > 0; },
                                   std::chrono::seconds(60), Ms(100)))
                << "the continued relay never rejoined";
            measured("relay continued: it held partitions again after", Clock::now() - continued);
            expect_new_session(before);
        },
        store_args_, 50);
}

}  // namespace
}  // namespace ordinal::test
