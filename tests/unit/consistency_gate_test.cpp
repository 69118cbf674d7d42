#include "core/consistency_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "support/fake_stores.h"

namespace ordinal {
namespace {

// A read store that only knows stream versions: the gate reads nothing else.
class VersionsOnlyReadStore final : public test_support::EmptyReadStore {
  public:
    void set(const StreamKey& k, std::int64_t v) {
        std::lock_guard lock(mu_);
        versions_[k] = v;
    }
    Expected<std::vector<std::int64_t>, StoreError> stream_versions(
        std::span<const StreamKey> keys) override {
        {
            std::unique_lock lock(mu_);
            ++polls_;
            ++blocked_;
            unblocked_.wait(lock, [&] { return !blocking_; });
            --blocked_;
        }
        std::vector<std::int64_t> out;
        for (const auto& k : keys) {
            auto v = stream_version(k);
            if (!v) return unexpected(v.error());
            out.push_back(*v);
        }
        return out;
    }
    Expected<std::int64_t, StoreError> stream_version(const StreamKey& k) override {
        std::lock_guard lock(mu_);
        ++reads_;
        if (fail_) return unexpected(StoreError{StoreError::Kind::Unavailable, "down"});
        auto it = versions_.find(k);
        return it == versions_.end() ? 0 : it->second;
    }
    void fail(bool f) {
        std::lock_guard lock(mu_);
        fail_ = f;
    }
    int reads() {
        std::lock_guard lock(mu_);
        return reads_;
    }
    int polls() {
        std::lock_guard lock(mu_);
        return polls_;
    }
    int blocked() {
        std::lock_guard lock(mu_);
        return blocked_;
    }
    void block_reads(bool b) {
        {
            std::lock_guard lock(mu_);
            blocking_ = b;
        }
        unblocked_.notify_all();
    }

  private:
    std::mutex mu_;
    std::map<StreamKey, std::int64_t> versions_;
    bool fail_ = false;
    int reads_ = 0;  // streams read
    int polls_ = 0;  // stream_versions calls
    int blocked_ = 0;
    bool blocking_ = false;
    std::condition_variable unblocked_;
};

const StreamKey kOrder{StreamType::Order, "0190a1b2-0000-7000-8000-0000000000aa"};
const StreamKey kProduct{StreamType::Product, "sku"};

std::future<GateResult> wait_async(ConsistencyGate& gate, VersionVector v,
                                   std::chrono::milliseconds ms) {
    auto p = std::make_shared<std::promise<GateResult>>();
    auto f = p->get_future();
    gate.wait(v, ms, [p](GateResult r) { p->set_value(r); });
    return f;
}

TEST(ConsistencyGate, AnswersAtOnceWhenAlreadyProjected) {
    VersionsOnlyReadStore store;
    store.set(kOrder, 3);
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    auto f = wait_async(gate, {{kOrder, 2}}, std::chrono::milliseconds(5000));
    ASSERT_EQ(f.wait_for(std::chrono::milliseconds(100)), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
}

TEST(ConsistencyGate, AShortWaitOnWhatIsProjectedIsReachedNotTimedOut) {
    VersionsOnlyReadStore store;
    store.set(kOrder, 3);
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    EXPECT_EQ(wait_async(gate, {{kOrder, 3}}, std::chrono::milliseconds(0)).get(),
              GateResult::Reached);
    EXPECT_EQ(gate.waiting(), 0u);
}

bool eventually(const std::function<bool()>& holds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!holds()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Registered before it looks, a waiter needs one look at the store: each stream is read once,
// whether it is projected already or woken later by notify().
TEST(ConsistencyGate, ReadsEachStreamOnceAndObservesTheWait) {
    VersionsOnlyReadStore store;
    MetricsRegistry metrics;
    Histogram& waits = metrics.histogram("waits", "test", {}, lag_buckets());
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    gate.observe_waits(waits);
    auto f = wait_async(gate, {{kOrder, 2}, {kProduct, 1}}, std::chrono::milliseconds(5000));
    ASSERT_TRUE(eventually([&] { return store.reads() == 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(store.reads(), 2);  // one look, not a poll loop
    store.set(kOrder, 2);
    store.set(kProduct, 1);
    std::vector<std::pair<StreamKey, std::int64_t>> adv{{kOrder, 2}, {kProduct, 1}};
    gate.notify(adv);
    ASSERT_EQ(f.wait_for(std::chrono::milliseconds(1000)), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
    EXPECT_EQ(store.reads(), 2);
    EXPECT_EQ(waits.count(), 1u);
    EXPECT_EQ(wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(5000)).get(),
              GateResult::Reached);
    EXPECT_EQ(store.reads(), 3);
    EXPECT_EQ(waits.count(), 2u);
}

// The first looks of waiters that arrive together are one read of the store, not one each.
TEST(ConsistencyGate, FirstLooksOfWaitersArrivingTogetherShareAPoll) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    store.block_reads(true);  // the timer's poll for the first waiter holds the store
    auto first = wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(5000));
    ASSERT_TRUE(eventually([&] { return store.blocked() == 1; }));
    std::vector<std::future<GateResult>> later;
    for (int i = 0; i < 20; ++i) {
        StreamKey k{StreamType::Order,
                    "0190a1b2-0000-7000-8000-0000000001" + std::to_string(10 + i)};
        store.set(k, 1);
        later.push_back(wait_async(gate, {{k, 1}}, std::chrono::milliseconds(5000)));
    }
    store.set(kOrder, 1);
    store.block_reads(false);
    EXPECT_EQ(first.get(), GateResult::Reached);
    for (auto& f : later) EXPECT_EQ(f.get(), GateResult::Reached);
    EXPECT_EQ(store.polls(), 2);  // the first waiter's look, then one for the twenty
}

TEST(ConsistencyGate, WokenByNotifyOnlyWhenEveryStreamReached) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    auto f = wait_async(gate, {{kOrder, 2}, {kProduct, 1}}, std::chrono::milliseconds(5000));
    std::vector<std::pair<StreamKey, std::int64_t>> step1{{kOrder, 2}};
    gate.notify(step1);
    EXPECT_EQ(f.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    std::vector<std::pair<StreamKey, std::int64_t>> step2{{kProduct, 1}};
    gate.notify(step2);
    ASSERT_EQ(f.wait_for(std::chrono::milliseconds(500)), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
    EXPECT_EQ(gate.waiting(), 0u);
}

TEST(ConsistencyGate, LowerVersionDoesNotWake) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    auto f = wait_async(gate, {{kOrder, 5}}, std::chrono::milliseconds(200));
    std::vector<std::pair<StreamKey, std::int64_t>> low{{kOrder, 4}};
    gate.notify(low);
    EXPECT_EQ(f.get(), GateResult::TimedOut);
}

TEST(ConsistencyGate, TimesOutWithinBound) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    const auto t0 = std::chrono::steady_clock::now();
    auto f = wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(100));
    EXPECT_EQ(f.get(), GateResult::TimedOut);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(95));
    EXPECT_LT(took, std::chrono::milliseconds(1000));
}

TEST(ConsistencyGate, PollsTheStoreWhenProjectorIsElsewhere) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(5));
    auto f = wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(5000));
    store.set(kOrder, 1);  // progress made by another process: no notify
    ASSERT_EQ(f.wait_for(std::chrono::milliseconds(1000)), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
}

// A listener's thread polls itself: the waiter is answered before poll() returns.
TEST(ConsistencyGate, PollReadsOnTheCallingThread) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    auto f = wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(5000));
    gate.poll();
    EXPECT_EQ(f.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    store.set(kOrder, 1);
    gate.poll();
    ASSERT_EQ(f.wait_for(std::chrono::milliseconds(0)), std::future_status::ready);
    EXPECT_EQ(f.get(), GateResult::Reached);
}

TEST(ConsistencyGate, StoreFailureIsReported) {
    VersionsOnlyReadStore store;
    store.fail(true);
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    EXPECT_EQ(wait_async(gate, {{kOrder, 1}}, std::chrono::milliseconds(1000)).get(),
              GateResult::StoreFailed);
}

TEST(ConsistencyGate, ManyConcurrentWaitersAllAnswered) {
    VersionsOnlyReadStore store;
    ConsistencyGate gate(store, std::chrono::milliseconds(0));
    std::atomic<int> reached{0}, timed_out{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 1; i <= 50; ++i) {
                auto f =
                    wait_async(gate, {{kOrder, i}}, std::chrono::milliseconds(t % 2 ? 2000 : 1));
                (f.get() == GateResult::Reached ? reached : timed_out)++;
            }
        });
    }
    std::thread projector([&] {
        for (int v = 1; v <= 50; ++v) {
            store.set(kOrder, v);
            std::vector<std::pair<StreamKey, std::int64_t>> adv{{kOrder, v}};
            gate.notify(adv);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    for (auto& t : threads) t.join();
    projector.join();
    EXPECT_EQ(reached + timed_out, 400);
    EXPECT_GE(reached.load(), 200);  // every waiter with the long deadline is reached
    EXPECT_EQ(gate.waiting(), 0u);
}

}  // namespace
}  // namespace ordinal
