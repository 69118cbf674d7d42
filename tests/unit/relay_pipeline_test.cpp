// The relay with several batches out on the bus at once: batches are confirmed late, out of
// order or not at all, and still the marked events are a prefix of what was sent (marking in
// order), a failed batch goes out again with everything after it, an event committed out of seq
// order is not skipped, and a stopped relay leaves only the unconfirmed tail to its successor.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "core/relay.h"
#include "ports/metrics.h"
#include "support/faulty_bus.h"
#include "support/memory_outbox.h"
#include "support/slot_publication.h"

namespace ordinal {
namespace {

using test_support::ManualBus;
using test_support::MemoryOutbox;
using test_support::PublicationSlot;
using test_support::SlotPublication;
using namespace std::chrono_literals;

Event event_of(const std::string& stream, std::int64_t version) {
    Event e;
    e.event_id = stream + "-" + std::to_string(version);
    e.stream = StreamKey{StreamType::Order, stream};
    e.version = version;
    e.data = OrderPaid{"pay", 100};
    return e;
}

// `streams` streams of `versions` events each, interleaved as concurrent commands leave them.
void fill(MemoryOutbox& outbox, int streams, int versions) {
    for (int v = 1; v <= versions; ++v)
        for (int s = 0; s < streams; ++s) outbox.append(event_of("s" + std::to_string(s), v));
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
    std::vector<std::int64_t> out;
    for (auto s = first; s <= last; ++s) out.push_back(s);
    return out;
}

RelayOptions pipelined(std::size_t batch, std::size_t in_flight) {
    RelayOptions o;
    o.batch_size = batch;
    o.idle_poll = 5ms;
    o.max_backoff = 20ms;
    o.linger = 0ms;
    o.max_in_flight = in_flight;
    return o;
}

void expect_marked_in_seq_order(MemoryOutbox& outbox, std::int64_t last) {
    std::vector<std::int64_t> all;
    for (const auto& m : outbox.marks()) all.insert(all.end(), m.begin(), m.end());
    EXPECT_EQ(all, range(1, last)) << "marks must follow the send order, each event once";
}

void expect_projected_completely(ManualBus& bus, int streams, int versions) {
    const auto last = bus.projected();
    ASSERT_EQ(last.size(), static_cast<std::size_t>(streams));
    for (const auto& [stream, version] : last) EXPECT_EQ(version, versions) << stream;
}

TEST(RelayPipeline, SendsTheNextBatchesWhileEarlierOnesAwaitConfirmationAndMarksInOrder) {
    MemoryOutbox outbox;
    fill(outbox, 10, 4);  // 40 events
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 3));
    relay.start();

    ASSERT_TRUE(bus.wait_sent(3)) << "three batches out without a single confirmation";
    EXPECT_EQ(bus.batches_sent(), 3u) << "no more than max_in_flight";
    EXPECT_EQ(bus.seqs_of(0), range(1, 8));
    EXPECT_EQ(bus.seqs_of(1), range(9, 16));
    EXPECT_EQ(bus.seqs_of(2), range(17, 24));

    // Confirmed out of order: nothing is marked while the first batch is still out.
    bus.settle(2, {});
    bus.settle(1, {});
    EXPECT_TRUE(outbox.marks().empty());
    EXPECT_EQ(bus.batches_sent(), 3u);

    bus.auto_confirm();
    bus.settle(0, {});
    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    expect_marked_in_seq_order(outbox, 40);
    for (const auto& [seq, times] : bus.send_counts()) EXPECT_EQ(times, 1) << seq;
    expect_projected_completely(bus, 10, 4);
    EXPECT_EQ(relay.published_seq(), 40);
    EXPECT_EQ(metrics.counter("ordinal_relay_events_published_total", "").value(), 40u);
}

TEST(RelayPipeline, AFailedBatchGoesOutAgainWithEverythingAfterItAndNothingLaterIsMarkedFirst) {
    MemoryOutbox outbox;
    fill(outbox, 6, 4);  // 24 events: seqs 1-6 are version 1, 7-12 version 2, ...
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 3));
    relay.start();
    ASSERT_TRUE(bus.wait_sent(3));

    bus.settle(0, {});
    bus.settle(2, {});  // lands: versions 3 and 4 of some streams, ahead of their version 2 and 3
    ASSERT_TRUE(outbox.wait_marks(1));
    bus.auto_confirm();
    bus.fail(1);

    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    expect_marked_in_seq_order(outbox, 24);
    EXPECT_EQ(bus.batches_sent(), 5u) << "batches 2 and 3 went out once more";
    EXPECT_EQ(bus.seqs_of(3), range(9, 16));
    EXPECT_EQ(bus.seqs_of(4), range(17, 24));
    expect_projected_completely(bus, 6, 4);
    EXPECT_GE(metrics.counter("ordinal_relay_errors_total", "").value(), 1u);
}

TEST(RelayPipeline, AnEventCommittedOutOfSeqOrderIsSentAfterTheLaterOnesNotSkipped) {
    MemoryOutbox outbox;
    for (int i = 1; i <= 10; ++i) outbox.append(event_of("s" + std::to_string(i), 1), i != 3);
    ManualBus bus;
    bus.auto_confirm();
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(4, 2));
    relay.start();
    ASSERT_TRUE(outbox.wait_published(10));
    EXPECT_FALSE(outbox.published(3));

    outbox.commit(3);
    relay.wake();
    ASSERT_TRUE(outbox.wait_published(3));
    relay.stop();
    const auto counts = bus.send_counts();
    EXPECT_EQ(counts.size(), 10u);
    for (const auto& [seq, times] : counts) EXPECT_EQ(times, 1) << seq;
    EXPECT_EQ(bus.seqs_of(bus.batches_sent() - 1), std::vector<std::int64_t>{3});
}

TEST(RelayPipeline, AStoppedRelayLeavesOnlyTheUnconfirmedTailToTheNextOne) {
    MemoryOutbox outbox;
    fill(outbox, 4, 6);  // 24 events
    {
        ManualBus bus;
        MetricsRegistry metrics;
        RelayOptions o = pipelined(8, 3);
        o.stop_wait = 0ms;  // as if killed: batches out are neither confirmed nor marked
        Relay relay(outbox, bus, metrics, o);
        relay.start();
        ASSERT_TRUE(bus.wait_sent(3));
        bus.settle(0, {});
        bus.settle(2, {});  // confirmed, but behind an unconfirmed batch: stays unmarked
        ASSERT_TRUE(outbox.wait_marks(1));
        relay.stop();
    }
    EXPECT_EQ(outbox.marks(), std::vector<std::vector<std::int64_t>>{range(1, 8)});

    ManualBus next;
    next.auto_confirm();
    MetricsRegistry metrics;
    Relay relay(outbox, next, metrics, pipelined(8, 3));
    relay.start();
    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    std::vector<std::int64_t> resent;
    for (const auto& [seq, times] : next.send_counts()) {
        resent.push_back(seq);
        EXPECT_EQ(times, 1) << seq;
    }
    EXPECT_EQ(resent, range(9, 24)) << "exactly the unmarked tail goes out again";
    expect_marked_in_seq_order(outbox, 24);
}

TEST(RelayPipeline, StopMarksTheBatchesOutThatAreConfirmedWhileItWaits) {
    MemoryOutbox outbox;
    fill(outbox, 2, 4);  // 8 events
    ManualBus bus;
    MetricsRegistry metrics;
    RelayOptions o = pipelined(4, 2);
    o.stop_wait = 10s;
    Relay relay(outbox, bus, metrics, o);
    relay.start();
    ASSERT_TRUE(bus.wait_sent(2));
    std::thread stopper([&] { relay.stop(); });
    bus.settle(0, {});
    bus.settle(1, {});
    stopper.join();
    // One mark or two, as the marker finds the second batch confirmed or not.
    expect_marked_in_seq_order(outbox, 8);
}

TEST(RelayPipeline, BatchesConfirmedBehindTheHeadAreMarkedWithItInOneCall) {
    MemoryOutbox outbox;
    fill(outbox, 6, 4);  // 24 events
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 3));
    relay.start();
    ASSERT_TRUE(bus.wait_sent(3));
    // Sent is not yet out: the relay thread records a batch as out after handing it over, and the
    // marker looks only at the batches recorded.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (metrics.gauge("ordinal_relay_batches_in_flight", "").value() < 3 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    ASSERT_EQ(metrics.gauge("ordinal_relay_batches_in_flight", "").value(), 3);
    bus.settle(1, {});
    bus.settle(2, {});
    EXPECT_TRUE(outbox.marks().empty()) << "nothing is marked while the head is out";
    bus.settle(0, {});
    ASSERT_TRUE(outbox.wait_marks(1));
    EXPECT_EQ(outbox.marks().front(), range(1, 24)) << "one mark for the three batches";
    bus.auto_confirm();
    relay.stop();
    EXPECT_EQ(relay.published_seq(), 24);
    EXPECT_EQ(metrics.counter("ordinal_relay_events_published_total", "").value(), 24u);
}

TEST(RelayPipeline, ABatchFailingBehindAConfirmedHeadIsNotMarkedWithIt) {
    MemoryOutbox outbox;
    fill(outbox, 6, 4);  // 24 events
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 3));
    relay.start();
    ASSERT_TRUE(bus.wait_sent(3));
    bus.fail(1);
    bus.settle(2, {});
    bus.auto_confirm();
    bus.settle(0, {});
    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    EXPECT_EQ(outbox.marks().front(), range(1, 8)) << "the failed batch stops the coalescing";
    expect_marked_in_seq_order(outbox, 24);
    expect_projected_completely(bus, 6, 4);
}

TEST(RelayPipeline, PauseReturnsOnlyOnceTheBatchesInFlightAreMarked) {
    MemoryOutbox outbox;
    fill(outbox, 4, 4);  // 16 events
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 2));
    relay.start();
    ASSERT_TRUE(bus.wait_sent(2));
    std::atomic<bool> paused{false};
    std::thread pauser([&] {
        relay.pause();
        paused = true;
    });
    bus.settle(1, {});
    bus.settle(0, {});
    pauser.join();
    EXPECT_TRUE(paused.load());
    std::size_t marked = 0;
    for (const auto& m : outbox.marks()) marked += m.size();
    EXPECT_EQ(marked, 16u) << "pause returned before the batches out were marked";
    relay.resume();
    relay.stop();
}

TEST(RelayPipeline, AFailedFetchKeepsTheBatchesAlreadyOut) {
    MemoryOutbox outbox;
    fill(outbox, 4, 4);  // 16 events
    ManualBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 3));
    relay.start();
    ASSERT_TRUE(bus.wait_sent(2));
    outbox.fail_next_fetches(2);
    // The third fetch from here comes after both failures were counted (one thread does both).
    ASSERT_TRUE(outbox.wait_fetches(outbox.fetches() + 3));
    EXPECT_EQ(metrics.counter("ordinal_relay_errors_total", "").value(), 2u);
    bus.auto_confirm();
    bus.settle(0, {});
    bus.settle(1, {});
    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    EXPECT_EQ(bus.batches_sent(), 2u) << "nothing sent twice";
    expect_marked_in_seq_order(outbox, 16);
}

// As librdkafka's delivery reports do: the outcome is known (the last report counted) before the
// callback that says so is over, and that callback runs under a lock of the publication's which
// its destructor takes too. The marker once destroyed a marked batch's publication while holding
// the relay's lock, which the callback needs: the marker and the bus's thread waited on each
// other for good, and the relay stopped (the Kafka lag benchmark's closed loop, --relay-in-flight
// 4).
struct LateCallback {
    // Held while `settled` runs, and by the destructor. A plain mutex polled with try_lock rather
    // than a timed_mutex: ThreadSanitizer (GCC 12) does not see try_lock_for's lock
    // (pthread_mutex_clocklock) and reported the destructor's write as a race.
    std::mutex callback_mu;
    std::atomic<bool> delivered{false};
    std::function<void()> settled;
    std::mutex mu;
    std::condition_variable cv;
    bool destroying = false;      // guarded by mu
    bool destroy_waited = false;  // the destructor gave up on callback_mu: it would have hung
};

class LateCallbackPublication final : public Publication {
  public:
    explicit LateCallbackPublication(std::shared_ptr<LateCallback> state) : s_(std::move(state)) {}
    ~LateCallbackPublication() override {
        {
            std::lock_guard lock(s_->mu);
            s_->destroying = true;
        }
        s_->cv.notify_all();
        const auto give_up = std::chrono::steady_clock::now() + 3s;
        while (!s_->callback_mu.try_lock()) {
            if (std::chrono::steady_clock::now() > give_up) {
                s_->destroy_waited = true;
                return;
            }
            std::this_thread::sleep_for(1ms);
        }
        s_->settled = nullptr;
        s_->callback_mu.unlock();
    }
    std::optional<Expected<void, StoreError>> outcome() override {
        if (s_->delivered.load()) return Expected<void, StoreError>{};
        return std::nullopt;
    }
    std::optional<Expected<void, StoreError>> wait(std::chrono::milliseconds) override {
        return outcome();
    }

  private:
    std::shared_ptr<LateCallback> s_;
};

class LateCallbackBus final : public Bus {
  public:
    Expected<void, StoreError> publish(std::span<const StoredEvent>) override {
        return unexpected(StoreError{StoreError::Kind::Internal, "the relay sends asynchronously"});
    }
    std::unique_ptr<Publication> publish_async(std::span<const StoredEvent>,
                                               std::function<void()> settled) override {
        state->settled = std::move(settled);
        return std::make_unique<LateCallbackPublication>(state);
    }
    void subscribe(EventConsumer*) override {}
    Expected<void, StoreError> check_ready() override { return {}; }

    std::shared_ptr<LateCallback> state = std::make_shared<LateCallback>();
};

TEST(RelayPipeline, APublicationIsNotDestroyedUnderTheRelaysLockWhileItsCallbackRuns) {
    MemoryOutbox outbox;
    fill(outbox, 2, 1);  // one batch
    LateCallbackBus bus;
    MetricsRegistry metrics;
    Relay relay(outbox, bus, metrics, pipelined(8, 4));
    relay.start();
    ASSERT_TRUE(outbox.wait_fetches(1));
    // The bus's thread: the last report counted, then its callback, under the publication's lock.
    std::thread reports([&] {
        std::lock_guard callback(bus.state->callback_mu);
        bus.state->delivered = true;
        // The marker sees the outcome, marks the batch and lets its publication go; once that is
        // under way, the callback runs.
        {
            std::unique_lock lock(bus.state->mu);
            bus.state->cv.wait_for(lock, 5s, [&] { return bus.state->destroying; });
        }
        if (bus.state->settled) bus.state->settled();
    });
    reports.join();
    ASSERT_TRUE(outbox.wait_all_marked());
    relay.stop();
    EXPECT_FALSE(bus.state->destroy_waited)
        << "the publication was destroyed while the relay held the lock its callback needs";
}

// A bus that applies in place (as the in-process one does) and takes `first_takes` over its first
// batch; it keeps when each publish began.
class SlowFirstBus final : public Bus {
  public:
    explicit SlowFirstBus(std::chrono::milliseconds first_takes) : first_takes_(first_takes) {}
    Expected<void, StoreError> publish(std::span<const StoredEvent>) override {
        const auto began = std::chrono::steady_clock::now();
        bool first = false;
        {
            std::lock_guard lock(mu_);
            first = began_.empty();
            began_.push_back(began);
        }
        if (first) std::this_thread::sleep_for(first_takes_);
        {
            std::lock_guard lock(mu_);
            ++done_;
        }
        cv_.notify_all();
        return {};
    }
    void subscribe(EventConsumer*) override {}
    Expected<void, StoreError> check_ready() override { return {}; }
    bool wait_done(std::size_t n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, 10s, [&] { return done_ >= n; });
    }
    std::chrono::steady_clock::time_point began(std::size_t i) {
        std::lock_guard lock(mu_);
        return began_.at(i);
    }

  private:
    const std::chrono::milliseconds first_takes_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::chrono::steady_clock::time_point> began_;
    std::size_t done_ = 0;
};

// The linger spaces the starts of rounds, it is no pause after each: a commit made after a long
// round is relayed once `linger` has passed since that round began (before, only `linger` after
// it ended: up to a whole linger later, on every commit that found the relay just done).
TEST(RelayPipeline, TheLingerCountsFromTheStartOfTheLastRoundNotItsEnd) {
    MemoryOutbox outbox;
    outbox.append(event_of("a", 1));
    SlowFirstBus bus(800ms);
    MetricsRegistry metrics;
    RelayOptions options = pipelined(8, 1);
    options.linger = 1000ms;
    options.idle_poll = 10s;  // only the wake-up below starts the second round
    Relay relay(outbox, bus, metrics, options);
    relay.start();
    ASSERT_TRUE(bus.wait_done(1));
    outbox.append(event_of("a", 2));
    relay.wake();
    ASSERT_TRUE(bus.wait_done(2));
    relay.stop();
    const auto gap = bus.began(1) - bus.began(0);
    EXPECT_GE(gap, 900ms) << "rounds start at most once per linger";
    EXPECT_LT(gap, 1400ms) << "the second round waited a linger after the first one ended (1.8 s)";
}

// The relay fetches in the form its bus sends: a bus that carries each row's stored envelope
// (Kafka) spares it decoding every row; the in-process bus gets decoded events.
TEST(RelayPipeline, FetchesEventsInTheFormTheBusSends) {
    for (const EventForm form : {EventForm::Envelope, EventForm::Decoded}) {
        MemoryOutbox outbox;
        fill(outbox, 2, 2);
        ManualBus bus;
        bus.set_event_form(form);
        bus.auto_confirm();
        MetricsRegistry metrics;
        Relay relay(outbox, bus, metrics, pipelined(8, 2));
        relay.start();
        ASSERT_TRUE(outbox.wait_all_marked());
        relay.stop();
        const auto forms = outbox.forms();
        ASSERT_FALSE(forms.empty());
        for (const EventForm f : forms) EXPECT_EQ(f, form);
    }
}

}  // namespace
}  // namespace ordinal
