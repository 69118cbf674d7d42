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
#include "support/faulty_bus.h"

namespace ordinal {
namespace {

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
    auto read = make_sqlite_read_store({dir + "/read.db"}, clock, projection_rules());
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
    test_support::FlakyBus bus(make_local_bus());
    check_exactly_once_in_effect(
        bus, RelayOptions{64, std::chrono::milliseconds(5), std::chrono::milliseconds(20)});
    EXPECT_GT(bus.dropped.load(), 0);
    EXPECT_GT(bus.duplicated.load(), 0);
}

// The relay's pipeline: several batches out at once, reported late and out of order, some lost
// or reported failed after delivery, so the projector sees gaps and copies; still exactly once.
TEST(RelayAndProjector, ExactlyOnceInEffectWithBatchesInFlightReportedLateAndOutOfOrder) {
    test_support::LateReportingBus bus;
    RelayOptions options{16, std::chrono::milliseconds(5), std::chrono::milliseconds(20)};
    options.max_in_flight = 4;
    check_exactly_once_in_effect(bus, options);
    EXPECT_GT(bus.lost.load(), 0);
    EXPECT_GT(bus.duplicated.load(), 0);
    EXPECT_GT(bus.reordered.load(), 0);
}

}  // namespace
}  // namespace ordinal
