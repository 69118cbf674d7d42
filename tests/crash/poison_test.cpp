// The embedded default (SQLite, in-process bus) with events it cannot apply and a relay that
// cannot publish: one unreadable event parks its own stream in a dead letter while every other
// stream flows, and neither kind of stall is silent (/readyz, /metrics, one log line).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/sqlite/sqlite_connection.h"
#include "support/http_expect.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"
#include "support/verify_run.h"

namespace ordinal::test {
namespace {

using json = nlohmann::json;

const std::string kAdmin = "poison-admin-token";

class Poison : public ::testing::Test {
  protected:
    void start(std::vector<std::string> extra = {}) {
        extra.insert(extra.end(), {"--admin-token", kAdmin});
        server_ =
            std::make_unique<ServerProcess>(ORDINAL_BINARY, data_.path(), logs_.path(), extra);
        server_->start();
        api_ = std::make_unique<OrdinalApi>(server_->port(), kAdmin);
    }
    void TearDown() override {
        if (HasFailure() && server_)
            std::cerr << "---- server log ----\n" << server_->log() << "\n";
        server_.reset();
    }

    sqlite::Connection open(const char* file) {
        sqlite::ConnectionOptions options;
        options.path = data_.path() + "/" + file;
        options.create = false;
        return sqlite::Connection::open(options);
    }

    // Writes an event into the outbox as another build would have: `type` and `schema` as given.
    void plant(const std::string& order_id, int version, const std::string& type, int schema,
               const std::string& data) {
        auto conn = open("write.db");
        conn.exec("PRAGMA busy_timeout = 10000");
        conn.exec(
            "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
            "causation_id, schema_version, data, created_ms) VALUES ('" +
            random_uuid() + "', 'order', '" + order_id + "', " + std::to_string(version) + ", '" +
            type + "', '2026-12-06T00:00:00.000Z', '" + random_uuid() + "', " +
            std::to_string(schema) + ", '" + data + "', " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()) +
            ")");
    }

    json readyz() {
        const auto r = api_->get("/readyz");
        if (!r.json_body().is_object()) throw std::runtime_error("/readyz: " + r.describe());
        return r.json_body();
    }
    static const json* component(const json& ready, const std::string& name) {
        for (const auto& c : ready["components"]) {
            if (c["name"] == name) return &c;
        }
        return nullptr;
    }
    double metric(const std::string& name) {
        const std::string text = api_->get("/metrics").body;
        const auto at = text.find("\n" + name + " ");
        if (at == std::string::npos) return -1;
        return std::stod(text.substr(at + name.size() + 2));
    }

    // A parked stream shows everywhere an operator looks: /readyz (degraded, the projection
    // component), /v1/admin/status (the projection's dead letters and component), /metrics
    // and the log (its stream and version).
    void expect_parked_everywhere(const std::string& order_id, int version, int letters) {
        const auto ready = api_->get("/readyz");
        EXPECT_EQ(ready.status, 200) << ready;
        const auto body = ready.json_body();
        EXPECT_EQ(body["status"], "degraded") << ready;
        EXPECT_EQ(body["roles"]["projector"], "degraded") << ready;
        const json* projection = component(body, "projection");
        ASSERT_NE(projection, nullptr) << ready;
        EXPECT_TRUE((*projection)["degraded"].get<bool>()) << ready;

        const auto status = api_->admin_get("/v1/admin/status");
        ASSERT_EQ(status.status, 200) << status;
        const json st = status.json_body();
        EXPECT_EQ(st["projection"]["deadLetters"], letters) << status;
        const json* in_status = component(st, "projection");
        ASSERT_NE(in_status, nullptr) << status;
        EXPECT_TRUE((*in_status)["degraded"].get<bool>()) << status;

        EXPECT_TRUE(eventually([&] { return metric("ordinal_projection_dead_letters") == letters; },
                               std::chrono::seconds(5)));
        EXPECT_NE(server_->log().find("projection parked order/" + order_id + " at version " +
                                      std::to_string(version)),
                  std::string::npos);
    }

    ScratchDir data_{"ordinal-poison-data"};
    ScratchDir logs_{"ordinal-poison-logs"};
    std::unique_ptr<ServerProcess> server_;
    std::unique_ptr<OrdinalApi> api_;
};

// The reported stall: a type written by a newer build sat in the outbox, every later token read
// timed out, and nothing said why.
TEST_F(Poison, AnUnknownEventTypeParksItsStreamAndTheRestFlows) {
    start();
    const auto sku = unique_sku();
    api_->create_product(sku, 100, nullptr);
    const auto parked = api_->create_order(random_uuid(), {{sku, 1}});
    plant(parked.order_id, 2, "OrderGiftWrapped", 1, R"({"paper":"gold"})");
    // A later event of the same stream, readable, waits behind it rather than overtaking it.
    plant(parked.order_id, 3, "OrderShipped", 1, "{}");

    const auto later = api_->create_order(random_uuid(), {{sku, 2}});
    const auto view = api_->get("/v1/orders/" + later.order_id, later.token);
    ASSERT_EQ(view.status, 200) << view;  // within the default wait

    const auto letters = api_->admin_get("/v1/admin/dead-letters");
    ASSERT_EQ(letters.status, 200) << letters;
    const auto list = letters.json_body()["deadLetters"];
    ASSERT_EQ(list.size(), 2u) << letters;
    EXPECT_EQ(list[0]["stream"], "order/" + parked.order_id);
    EXPECT_EQ(list[0]["version"], 2);
    EXPECT_EQ(list[0]["eventType"], "OrderGiftWrapped");
    EXPECT_NE(list[0]["reason"].get<std::string>().find("OrderGiftWrapped"), std::string::npos)
        << letters;
    EXPECT_EQ(list[1]["version"], 3);
    EXPECT_NE(list[1]["reason"].get<std::string>().find("behind"), std::string::npos) << letters;

    // The parked order reads at version 1, never at 3 over the gap.
    EXPECT_EQ(api_->must_read("/v1/orders/" + parked.order_id, parked.token)["version"], 1);

    expect_parked_everywhere(parked.order_id, 2, 2);
    // The gauge is polled every 250 ms: it may still show the planted events as pending.
    EXPECT_TRUE(
        eventually([&] { return metric("ordinal_outbox_pending") == 0; }, std::chrono::seconds(5)))
        << "a parked event is published, not pending";

    // A retry by this build still cannot read it: both stay, in order.
    const auto retry = api_->admin_post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.json_body()["remaining"], 2) << retry;
    EXPECT_EQ(api_->must_read("/v1/orders/" + parked.order_id)["version"], 1);
}

// `ordinal verify` judges the log against both models by replaying it: an event this build
// cannot read leaves nothing to judge the stream by, so it says so and exits 2 (cannot run),
// never 0 (clean) or 1 (drift), whatever the unreadable part is.
TEST_F(Poison, VerifyExitsTwoOnAnEventThisBuildCannotRead) {
    start();
    const auto sku = unique_sku();
    api_->create_product(sku, 100, nullptr);
    const auto first = api_->create_order(random_uuid(), {{sku, 1}});
    api_->must_read("/v1/orders/" + first.order_id, first.token);
    VerifyRun clean = run_verify({"--data-dir", data_.path()}, logs_.path() + "/verify-0.log");
    ASSERT_EQ(clean.code, 0) << clean;

    struct Case {
        std::string type, data, says;
        int schema;
    };
    const std::vector<Case> cases{
        {"OrderGiftWrapped", R"({"paper":"gold"})", "OrderGiftWrapped", 1},
        {"OrderShipped", "{}", "schema version 2 is not supported", 2},
        {"OrderShipped", "not json", "cannot be decoded", 1},
    };
    int n = 0;
    for (const auto& c : cases) {
        // Each case on an order of its own, alone in the log with an unreadable event.
        const auto order = api_->create_order(random_uuid(), {{sku, 1}});
        plant(order.order_id, 2, c.type, c.schema, c.data);
        const VerifyRun run = run_verify({"--data-dir", data_.path()},
                                         logs_.path() + "/verify-" + std::to_string(++n) + ".log");
        EXPECT_EQ(run.code, 2) << c.type << " schema " << c.schema << ": " << run;
        EXPECT_NE(run.output.find("cannot be decoded"), std::string::npos) << run;
        EXPECT_NE(run.output.find(c.says), std::string::npos) << run;
        // Taken out again, the log is whole: the next case stands alone.
        auto conn = open("write.db");
        conn.exec("PRAGMA busy_timeout = 10000");
        conn.exec("DELETE FROM events WHERE stream_id = '" + order.order_id + "' AND version = 2");
    }
}

TEST_F(Poison, ANewerSchemaVersionIsParkedNotDropped) {
    start();
    const auto sku = unique_sku();
    api_->create_product(sku, 100, nullptr);
    const auto parked = api_->create_order(random_uuid(), {{sku, 1}});
    plant(parked.order_id, 2, "OrderShipped", 2, "{}");
    const auto later = api_->create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(api_->get("/v1/orders/" + later.order_id, later.token).status, 200);
    const auto list = api_->admin_get("/v1/admin/dead-letters").json_body()["deadLetters"];
    ASSERT_EQ(list.size(), 1u) << list;
    EXPECT_NE(list[0]["reason"].get<std::string>().find("schema version 2"), std::string::npos)
        << list;
    EXPECT_EQ(api_->must_read("/v1/orders/" + parked.order_id)["status"], "PLACED");
    expect_parked_everywhere(parked.order_id, 2, 1);
}

// Damaged data (not even JSON) of a known type: parked like an unknown type, and shown.
TEST_F(Poison, AnUndecodableEventParksItsStreamAndShowsEverywhere) {
    start();
    const auto sku = unique_sku();
    api_->create_product(sku, 100, nullptr);
    const auto parked = api_->create_order(random_uuid(), {{sku, 1}});
    plant(parked.order_id, 2, "OrderPaid", 1, "{\"paymentRef\":");
    const auto later = api_->create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(api_->get("/v1/orders/" + later.order_id, later.token).status, 200);
    const auto list = api_->admin_get("/v1/admin/dead-letters").json_body()["deadLetters"];
    ASSERT_EQ(list.size(), 1u) << list;
    EXPECT_EQ(list[0]["stream"], "order/" + parked.order_id);
    EXPECT_NE(list[0]["reason"].get<std::string>().find("cannot be decoded"), std::string::npos)
        << list;
    expect_parked_everywhere(parked.order_id, 2, 1);
}

// A rebuild replays the same rows: it parks the same stream again instead of failing.
TEST_F(Poison, ARebuildParksTheSameStreamAndCompletes) {
    start();
    const auto sku = unique_sku();
    api_->create_product(sku, 100, nullptr);
    const auto parked = api_->create_order(random_uuid(), {{sku, 1}});
    plant(parked.order_id, 2, "OrderGiftWrapped", 1, "not json");
    const auto later = api_->create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(api_->get("/v1/orders/" + later.order_id, later.token).status, 200);
    const auto rebuilt = api_->admin_post("/v1/admin/projections/rebuild");
    ASSERT_EQ(rebuilt.status, 200) << rebuilt;
    const auto list = api_->admin_get("/v1/admin/dead-letters").json_body()["deadLetters"];
    ASSERT_EQ(list.size(), 1u) << list;
    EXPECT_EQ(list[0]["version"], 2);
    EXPECT_EQ(api_->must_read("/v1/orders/" + later.order_id)["version"], 1);
}

// The relay fails every round (the read store is locked by someone else): the outbox gauges keep
// moving, load is shed at --max-outbox-pending, /readyz says the outbox stalled, and all of it
// clears once the lock goes.
TEST_F(Poison, ARelayThatCannotPublishIsSeenAndShedsLoad) {
    start({"--max-outbox-pending", "3", "--outbox-stall-ms", "300"});
    const auto sku = unique_sku();
    const auto put = api_->create_product(sku, 100, nullptr);
    ASSERT_EQ(api_->get("/v1/products/" + sku, put.token).status, 200);

    auto holder = open("read.db");
    holder.exec("BEGIN EXCLUSIVE");
    std::vector<Ack> placed;
    for (int i = 0; i < 3; ++i) placed.push_back(api_->create_order(random_uuid(), {{sku, 1}}));
    EXPECT_TRUE(eventually([&] { return metric("ordinal_outbox_pending") >= 3; },
                           std::chrono::seconds(5), std::chrono::milliseconds(50)));
    bool shed = false;
    for (int i = 0; i < 40 && !shed; ++i) {
        const auto r =
            api_->place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
        shed = IsError(r, 503, "overloaded");
        if (!shed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(shed) << "commands are shed past --max-outbox-pending while the relay fails";
    EXPECT_TRUE(eventually(
        [&] {
            const json ready = readyz();
            const json* c = component(ready, "outbox");
            return c && (*c)["degraded"].get<bool>();
        },
        std::chrono::seconds(5), std::chrono::milliseconds(50)));
    EXPECT_EQ(metric("ordinal_outbox_stalled"), 1);

    holder.exec("ROLLBACK");
    for (const auto& o : placed) {
        EXPECT_EQ(api_->get("/v1/orders/" + o.order_id, o.token, 30000).status, 200);
    }
    EXPECT_TRUE(eventually([&] { return readyz()["status"] == "ready"; }, std::chrono::seconds(10),
                           std::chrono::milliseconds(50)));
    EXPECT_EQ(metric("ordinal_outbox_stalled"), 0);
    EXPECT_NE(server_->log().find("outbox stalled"), std::string::npos);
}

}  // namespace
}  // namespace ordinal::test
