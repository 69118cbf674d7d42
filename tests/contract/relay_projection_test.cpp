// The relay and projector under a bus that fails and redelivers: every committed event reaches
// the read model exactly once in effect, in per-stream order.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "adapters/memory/local_bus.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "codec/event_json.h"
#include "core/consistency_gate.h"
#include "core/metrics.h"
#include "core/projector.h"
#include "core/relay.h"
#include "core/system_clock.h"
#include "domain/uuid.h"

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

TEST(RelayAndProjector, ExactlyOnceInEffectUnderLostAndDuplicatedDeliveries) {
    const auto dir = temp_dir();
    SystemClock clock;
    RandomIdGenerator ids(clock);
    auto write = make_sqlite_write_store({dir + "/write.db"}, clock, ids);
    ASSERT_TRUE(write) << write.error().message;
    auto read = make_sqlite_read_store({dir + "/read.db"});
    ASSERT_TRUE(read) << read.error().message;
    MetricsRegistry metrics;
    ConsistencyGate gate(**read, std::chrono::milliseconds(0));
    Projector projector(**read, &gate, metrics, encode_event_envelope);
    FlakyBus bus(make_local_bus());
    bus.subscribe(&projector);
    Relay relay(**write, bus, metrics,
                RelayOptions{64, std::chrono::milliseconds(5), std::chrono::milliseconds(20)});
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
    EXPECT_GT(bus.dropped.load(), 0);
    EXPECT_GT(bus.duplicated.load(), 0);

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

}  // namespace
}  // namespace ordinal
