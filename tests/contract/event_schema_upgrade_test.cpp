// Schema evolution: a history stored by an older build (tests/fixtures/events_schema_v1.json,
// every event at schema version 1) is read by this build, upcast (OrderCancelled 1 -> 2), and
// projected through the relay and the projector into the read model, nothing dead-lettered.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/memory/local_bus.h"
#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "codec/event_json.h"
#include "core/command_executor.h"
#include "core/consistency_gate.h"
#include "core/projection_sequencer.h"
#include "core/projector.h"
#include "core/relay.h"
#include "core/system_clock.h"
#include "ports/metrics.h"
#include "support/temp_dir.h"

namespace ordinal {
namespace {

nlohmann::json stored_history() {
    std::ifstream in(std::string(ORDINAL_SOURCE_DIR) + "/tests/fixtures/events_schema_v1.json");
    EXPECT_TRUE(in) << "fixture missing";
    return nlohmann::json::parse(in, nullptr, false);
}

// The fixture's rows written into the events table as they are, bytes of `data` included.
void plant_history(const std::string& path, const nlohmann::json& rows) {
    sqlite::ConnectionOptions options;
    options.path = path;
    options.create = false;
    sqlite::Connection conn = sqlite::Connection::open(options);
    for (const auto& r : rows) {
        conn.exec(
            "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
            "causation_id, schema_version, data, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            r["event_id"].get<std::string>(), r["stream_type"].get<std::string>(),
            r["stream_id"].get<std::string>(), r["version"].get<std::int64_t>(),
            r["type"].get<std::string>(), r["occurred_at"].get<std::string>(),
            r["causation_id"].get<std::string>(), r["schema_version"].get<std::int64_t>(),
            r["data"].get<std::string>(), r["created_ms"].get<std::int64_t>());
    }
}

TEST(EventSchemaUpgrade, AHistoryStoredAtVersionOneIsUpcastAndProjected) {
    const nlohmann::json fixture = stored_history();
    ASSERT_TRUE(fixture.is_object());
    const auto& rows = fixture["events"];
    ASSERT_EQ(rows.size(), 6u);
    std::size_t old_cancels = 0;
    for (const auto& r : rows) {
        ASSERT_EQ(r["schema_version"], 1);
        if (r["type"] == "OrderCancelled") {
            ++old_cancels;
            EXPECT_EQ(r["data"].get<std::string>().find("cancelledFrom"), std::string::npos);
        }
    }
    ASSERT_EQ(old_cancels, 2u);

    test_support::TempDir dir("ordinal-schema");
    ASSERT_TRUE(migrate_sqlite_write_store(dir.file("write.db")));
    plant_history(dir.file("write.db"), rows);

    SystemClock clock;
    RandomIdGenerator ids(clock);
    auto write = make_sqlite_write_store({dir.file("write.db")}, clock, command_rules(clock, ids));
    ASSERT_TRUE(write) << write.error().message;
    auto read = make_sqlite_read_store({dir.file("read.db")}, clock, projection_rules());
    ASSERT_TRUE(read) << read.error().message;

    // The log as this build reads it: decoded, upcast, stored version kept.
    auto log = (*write)->read_log(0, 100);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_EQ(log->size(), 6u);
    for (const StoredEvent& e : *log) {
        ASSERT_FALSE(e.undecoded) << e.undecoded->reason;
        EXPECT_EQ(e.event.schema_version, 1);
        if (const auto* c = std::get_if<OrderCancelled>(&e.event.data)) {
            EXPECT_FALSE(c->cancelled_from);  // not recorded at version 1, never guessed
            EXPECT_NE(encode_event_envelope(e.event).find(R"("schemaVersion":2)"),
                      std::string::npos);
        }
    }

    auto bus = make_local_bus();
    MetricsRegistry metrics;
    ConsistencyGate gate(**read, std::chrono::milliseconds(0));
    Projector projector(**read, &gate, metrics, encode_event_envelope);
    bus->subscribe(&projector);
    Relay relay(**write, *bus, metrics, RelayOptions{});
    relay.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::int64_t pending = -1;
    while (std::chrono::steady_clock::now() < deadline) {
        auto stats = (*write)->outbox_stats();
        ASSERT_TRUE(stats) << stats.error().message;
        pending = stats->pending;
        if (pending == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    relay.stop();
    ASSERT_EQ(pending, 0);

    EXPECT_EQ(metrics.counter("ordinal_projection_events_applied_total", "").value(), 6u);
    auto letters = (*read)->dead_letter_count();
    ASSERT_TRUE(letters);
    EXPECT_EQ(*letters, 0);
    const std::string first = rows[1]["stream_id"], second = rows[3]["stream_id"];
    for (const auto& [id, version] : {std::pair{first, 2}, std::pair{second, 3}}) {
        auto order = (*read)->get_order(id);
        ASSERT_TRUE(order && order->has_value()) << id;
        EXPECT_EQ((*order)->status, OrderStatus::Cancelled) << id;
        EXPECT_EQ((*order)->version, version) << id;
    }
    auto product = (*read)->get_product("SKU-V1");
    ASSERT_TRUE(product && product->has_value());
    EXPECT_EQ((*product)->stock, 10);  // both cancellations gave their stock back
    EXPECT_EQ((*product)->version, 1);
}

}  // namespace
}  // namespace ordinal
