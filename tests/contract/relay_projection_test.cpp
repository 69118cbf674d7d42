// The relay and projector under a bus that fails and redelivers: every committed event reaches
// the read model exactly once in effect, in per-stream order.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "adapters/memory/local_bus.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "codec/event_json.h"
#include "core/command_executor.h"
#include "core/consistency_gate.h"
#include "core/projection_sequencer.h"
#include "core/projector.h"
#include "core/relay.h"
#include "core/system_clock.h"
#include "domain/uuid.h"
#include "ports/metrics.h"
#include "support/slot_publication.h"

namespace ordinal {
namespace {

// Wraps the in-process bus: some publishes fail before delivery (lost), some deliver and then
// report failure (so the relay publishes the batch again: a duplicate delivery).
class FlakyBus final : public Bus {
  public:
    explicit FlakyBus(std::unique_ptr<Bus> inner) : inner_(std::move(inner)) {}
    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        const int roll = static_cast<int>(rng_() % 10);
        if (roll < 2) {
            ++dropped;
            return unexpected(
                StoreError{StoreError::Kind::Unavailable, "injected: lost before delivery"});
        }
        auto r = inner_->publish(events);
        if (r && roll < 4) {
            ++duplicated;
            return unexpected(
                StoreError{StoreError::Kind::Timeout, "injected: delivered, ack lost"});
        }
        return r;
    }
    void subscribe(EventConsumer* c) override { inner_->subscribe(c); }
    Expected<void, StoreError> check_ready() override { return {}; }
    std::atomic<int> dropped{0}, duplicated{0};

  private:
    std::unique_ptr<Bus> inner_;
    std::mt19937 rng_{42};
};

// A bus like Kafka seen from the relay: batches are delivered to the projector in the order they
// were sent (a partition's order), as deliveries that may have gaps (in_order = false), but their
// outcomes are reported late and out of order; some batches are lost (reported failed, not
// delivered), some delivered and reported failed. The relay meanwhile has further batches out.
class LateReportingBus final : public Bus {
  public:
    LateReportingBus() : worker_([this] { work(); }) {}
    ~LateReportingBus() override {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
    Expected<void, StoreError> publish(std::span<const StoredEvent>) override {
        return unexpected(StoreError{StoreError::Kind::Internal, "the relay sends asynchronously"});
    }
    std::unique_ptr<Publication> publish_async(std::span<const StoredEvent> events,
                                               std::function<void()> settled) override {
        auto slot = std::make_shared<test_support::PublicationSlot>();
        slot->settled = std::move(settled);
        {
            std::lock_guard lock(mu_);
            queue_.push_back(Job{std::vector<StoredEvent>(events.begin(), events.end()), slot});
            ++sent_batches;
        }
        cv_.notify_all();
        return std::make_unique<test_support::SlotPublication>(slot);
    }
    void subscribe(EventConsumer* c) override { consumer_ = c; }
    Expected<void, StoreError> check_ready() override { return {}; }

    std::atomic<int> lost{0}, duplicated{0}, reordered{0}, sent_batches{0};

  private:
    struct Job {
        std::vector<StoredEvent> events;
        std::shared_ptr<test_support::PublicationSlot> slot;
    };

    // Delivers one batch, as Kafka would hand its messages over: fresh offsets in one partition.
    Expected<void, StoreError> deliver(const std::vector<StoredEvent>& events) {
        std::vector<std::int64_t> offsets;
        Delivery d = local_delivery(events, offsets);
        for (auto& o : offsets) o = next_offset_++;
        d.position = BusPosition{"p0", next_offset_};
        d.in_order = false;
        return consumer_->consume_delivery(d, offsets);
    }

    void work() {
        std::vector<
            std::pair<std::shared_ptr<test_support::PublicationSlot>, Expected<void, StoreError>>>
            unreported;
        std::unique_lock lock(mu_);
        while (true) {
            cv_.wait_for(lock, std::chrono::milliseconds(2),
                         [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) break;
            if (queue_.empty()) {
                // Nothing new: report what is held back, newest first.
                lock.unlock();
                if (unreported.size() > 1) ++reordered;
                for (auto it = unreported.rbegin(); it != unreported.rend(); ++it)
                    it->first->settle(std::move(it->second));
                unreported.clear();
                lock.lock();
                continue;
            }
            Job job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            const int roll = static_cast<int>(rng_() % 10);
            Expected<void, StoreError> outcome;
            if (roll < 2) {
                ++lost;
                outcome = unexpected(StoreError{StoreError::Kind::Unavailable, "injected: lost"});
            } else {
                outcome = deliver(job.events);
                if (outcome && roll < 3) {
                    ++duplicated;
                    outcome = unexpected(
                        StoreError{StoreError::Kind::Timeout, "injected: delivered, report lost"});
                }
            }
            unreported.emplace_back(job.slot, std::move(outcome));
            lock.lock();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    EventConsumer* consumer_ = nullptr;
    std::int64_t next_offset_ = 0;  // the worker's
    std::mt19937 rng_{7};
    std::thread worker_;
};

std::string temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ordinal-relay-XXXXXX").string();
    return mkdtemp(tmpl.data());
}

CommandOutcome submit_sync(WriteStore& store, CommandRequest req) {
    std::promise<CommandOutcome> p;
    auto f = p.get_future();
    store.submit(std::move(req), [&p](CommandOutcome o) { p.set_value(std::move(o)); });
    return f.get();
}

// Places orders from several threads through `bus` and checks that the read model ends up equal
// to a replay of the log, every event applied exactly once.
template <typename BusType>
void check_exactly_once_in_effect(BusType& bus, RelayOptions options) {
    const auto dir = temp_dir();
    SystemClock clock;
    RandomIdGenerator ids(clock);
    auto write = make_sqlite_write_store({dir + "/write.db"}, clock, command_rules(clock, ids));
    ASSERT_TRUE(write) << write.error().message;
    auto read = make_sqlite_read_store({dir + "/read.db"}, projection_rules());
    ASSERT_TRUE(read) << read.error().message;
    MetricsRegistry metrics;
    ConsistencyGate gate(**read, std::chrono::milliseconds(0));
    Projector projector(**read, &gate, metrics, encode_event_envelope);
    bus.subscribe(&projector);
    Relay relay(**write, bus, metrics, options);
    (*write)->set_commit_listener([&] { relay.wake(); });
    relay.start();

    for (int p = 0; p < 5; ++p) {
        auto o = submit_sync(**write, CommandRequest{ids.new_uuid_v7(), "f",
                                                     UpsertProduct{"sku-" + std::to_string(p), "P",
                                                                   "EUR", 100, 1000}});
        ASSERT_TRUE(std::holds_alternative<Acknowledgement>(o));
    }
    // Orders from several threads; every other one is paid, every third cancelled.
    std::vector<std::thread> threads;
    std::mutex mu;
    std::vector<std::string> orders;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) {
                const std::string id = ids.new_uuid_v7();
                PlaceOrder place{id,
                                 "0190a1b2-0000-7000-8000-0000000000aa",
                                 "EUR",
                                 {{"sku-" + std::to_string((t + i) % 5), 1 + i % 3}}};
                auto o = submit_sync(**write, CommandRequest{ids.new_uuid_v7(), "f", place});
                ASSERT_TRUE(std::holds_alternative<Acknowledgement>(o));
                if (i % 2 == 0)
                    submit_sync(**write, CommandRequest{ids.new_uuid_v7(), "f",
                                                        PayOrder{id, 1, "r", 100 * (1 + i % 3)}});
                if (i % 3 == 0)
                    submit_sync(**write, CommandRequest{ids.new_uuid_v7(), "f",
                                                        CancelOrder{id, std::nullopt, "r"}});
                std::lock_guard lock(mu);
                orders.push_back(id);
            }
        });
    }
    for (auto& t : threads) t.join();

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto stats = (*write)->outbox_stats();
        ASSERT_TRUE(stats);
        if (stats->pending == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    relay.stop();
    auto stats = (*write)->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 0);

    // The read model matches a replay of the log: every stream at its last version.
    std::map<StreamKey, std::int64_t> last;
    std::int64_t after = 0;
    std::int64_t total_events = 0;
    while (true) {
        auto batch = (*write)->read_log(after, 500);
        ASSERT_TRUE(batch);
        if (batch->empty()) break;
        for (const auto& e : *batch) {
            auto& v = last[e.event.stream];
            EXPECT_EQ(e.event.version, v + 1) << "gap or reorder in the log";
            v = e.event.version;
        }
        after = batch->back().seq;
        total_events += static_cast<std::int64_t>(batch->size());
    }
    for (const auto& [stream, version] : last) {
        auto have = (*read)->stream_version(stream);
        ASSERT_TRUE(have);
        EXPECT_EQ(*have, version) << stream.id;
    }
    EXPECT_EQ(metrics.counter("ordinal_projection_events_applied_total", "").value(),
              static_cast<std::uint64_t>(total_events));
    EXPECT_GT(metrics.counter("ordinal_projection_events_skipped_total", "").value(), 0u);
    for (const auto& id : orders) {
        auto o = (*read)->get_order(id);
        ASSERT_TRUE(o);
        ASSERT_TRUE(o->has_value());
    }
    std::filesystem::remove_all(dir);
}

TEST(RelayAndProjector, ExactlyOnceInEffectUnderLostAndDuplicatedDeliveries) {
    FlakyBus bus(make_local_bus());
    check_exactly_once_in_effect(
        bus, RelayOptions{64, std::chrono::milliseconds(5), std::chrono::milliseconds(20)});
    EXPECT_GT(bus.dropped.load(), 0);
    EXPECT_GT(bus.duplicated.load(), 0);
}

// The relay's pipeline: several batches out at once, reported late and out of order, some lost
// or reported failed after delivery, so the projector sees gaps and copies; still exactly once.
TEST(RelayAndProjector, ExactlyOnceInEffectWithBatchesInFlightReportedLateAndOutOfOrder) {
    LateReportingBus bus;
    RelayOptions options{16, std::chrono::milliseconds(5), std::chrono::milliseconds(20)};
    options.max_in_flight = 4;
    check_exactly_once_in_effect(bus, options);
    EXPECT_GT(bus.lost.load(), 0);
    EXPECT_GT(bus.duplicated.load(), 0);
    EXPECT_GT(bus.reordered.load(), 0);
}

}  // namespace
}  // namespace ordinal
