// JSON bodies of HTTP answers (codec/response_json.h). Parsed back with nlohmann::json, which the
// tests may use; the service code outside codec/ never sees it.
#include "codec/response_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "domain/consistency_token.h"

namespace ordinal {
namespace {

using nlohmann::json;

Order sample_order() {
    Order o;
    o.id = "0190f0a4-6b3c-7d2e-8f10-112233445566";
    o.user_id = "5d0c1a7e-2b3f-4c6d-9e8f-a1b2c3d4e5f6";
    o.status = OrderStatus::Paid;
    o.currency = "EUR";
    o.lines = {{"A-1", 2, 450}, {"B", 1, 100}};
    o.total_minor = 1000;
    o.version = 2;
    o.created_at = "2026-01-02T03:04:05.006Z";
    o.updated_at = "2026-01-02T03:04:06.007Z";
    return o;
}

TEST(ResponseJson, AcknowledgementOfAnOrderCommand) {
    Acknowledgement ack;
    ack.event_id = "0190f0a4-0000-7000-8000-000000000001";
    ack.stream = StreamKey{StreamType::Order, "0190f0a4-6b3c-7d2e-8f10-112233445566"};
    ack.version = 3;
    ack.consistency_token = encode_consistency_token({{ack.stream, 3}});
    const std::string text = write_acknowledgement_json(ack);
    const json j = json::parse(text);
    EXPECT_EQ(j["status"], "accepted");
    EXPECT_EQ(j["eventId"], ack.event_id);
    EXPECT_EQ(j["streamId"], ack.stream.id);
    EXPECT_EQ(j["orderId"], ack.stream.id);
    EXPECT_EQ(j["version"], 3);
    EXPECT_EQ(j["consistencyToken"], ack.consistency_token);
    EXPECT_EQ(text.find("\"status\""), 1u);  // contract order: status first

    ack.duplicate = true;
    EXPECT_EQ(json::parse(write_acknowledgement_json(ack))["status"], "duplicate");
}

TEST(ResponseJson, AcknowledgementOfAProductCommandHasNoOrderId) {
    Acknowledgement ack;
    ack.stream = StreamKey{StreamType::Product, "SKU-1"};
    ack.version = 1;
    const json j = json::parse(write_acknowledgement_json(ack));
    EXPECT_EQ(j["streamId"], "SKU-1");
    EXPECT_FALSE(j.contains("orderId"));
}

TEST(ResponseJson, OrderView) {
    const json j = json::parse(write_order_json(sample_order()));
    EXPECT_EQ(j["orderId"], "0190f0a4-6b3c-7d2e-8f10-112233445566");
    EXPECT_EQ(j["userId"], "5d0c1a7e-2b3f-4c6d-9e8f-a1b2c3d4e5f6");
    EXPECT_EQ(j["status"], "PAID");
    EXPECT_EQ(j["currency"], "EUR");
    ASSERT_EQ(j["items"].size(), 2u);
    EXPECT_EQ(j["items"][0],
              json::parse(R"({"sku":"A-1","qty":2,"unitPriceMinor":450,"lineTotalMinor":900})"));
    EXPECT_EQ(j["totalMinor"], 1000);
    EXPECT_EQ(j["version"], 2);
    EXPECT_EQ(j["createdAt"], "2026-01-02T03:04:05.006Z");
    EXPECT_EQ(j["updatedAt"], "2026-01-02T03:04:06.007Z");
    EXPECT_EQ(j.size(), 9u);
}

TEST(ResponseJson, ProductViewWithLimitedAndUnlimitedStock) {
    ProductView p{"SKU-1", "Tea \xE2\x82\xAC", "EUR", 450, 7, 2};
    json j = json::parse(write_product_json(p));
    EXPECT_EQ(
        j,
        json::parse(
            R"({"sku":"SKU-1","name":"Tea €","currency":"EUR","priceMinor":450,"stock":7,"version":2})"));
    p.stock.reset();
    j = json::parse(write_product_json(p));
    EXPECT_TRUE(j["stock"].is_null());
}

TEST(ResponseJson, OrderPage) {
    json j = json::parse(write_order_page_json({sample_order()}, std::string("abc")));
    EXPECT_EQ(j["orders"].size(), 1u);
    EXPECT_EQ(j["nextCursor"], "abc");
    j = json::parse(write_order_page_json({}, std::nullopt));
    EXPECT_TRUE(j["orders"].is_array());
    EXPECT_TRUE(j["nextCursor"].is_null());
}

TEST(ResponseJson, ErrorBodies) {
    ErrorBody e;
    e.error = "validation_failed";
    e.message = "bad";
    e.details = {{"items[2].qty", "must be an integer from 1 to 10000"}};
    json j = json::parse(write_error_json(e));
    EXPECT_EQ(j["error"], "validation_failed");
    EXPECT_EQ(j["message"], "bad");
    EXPECT_EQ(j["details"][0]["field"], "items[2].qty");
    EXPECT_FALSE(j.contains("sku"));

    ErrorBody conflict{"version_conflict", "moved on",   {},          4,
                       std::nullopt,       std::nullopt, std::nullopt};
    j = json::parse(write_error_json(conflict));
    EXPECT_EQ(j["currentVersion"], 4);
    EXPECT_FALSE(j.contains("details"));

    ErrorBody transition{"invalid_transition", "no",      {},         std::nullopt,
                         std::nullopt,         "SHIPPED", "CANCELLED"};
    j = json::parse(write_error_json(transition));
    EXPECT_EQ(j["from"], "SHIPPED");
    EXPECT_EQ(j["to"], "CANCELLED");

    // Whatever text reaches an error body, the body stays valid UTF-8 JSON.
    ErrorBody hostile{"unknown_sku",
                      std::string("bad \xFF\xFE bytes"),
                      {},
                      std::nullopt,
                      std::string("\xC0"),
                      {},
                      {}};
    EXPECT_TRUE(json::accept(write_error_json(hostile)));
}

TEST(ResponseJson, OperationalBodies) {
    EXPECT_EQ(json::parse(write_health_json()), json::parse(R"({"status":"ok"})"));

    json ready =
        json::parse(write_readiness_json(false, {{"write_store", true, "ok", {"api", "relay"}},
                                                 {"read_store", false, "unreachable", {"api"}}}));
    EXPECT_EQ(ready["status"], "not_ready");
    EXPECT_EQ(
        ready["components"][1],
        json::parse(
            R"({"name":"read_store","ok":false,"degraded":false,"detail":"unreachable","roles":["api"]})"));
    // A role is ready only when every component it needs is.
    EXPECT_EQ(ready["roles"], json::parse(R"({"api":"not_ready","relay":"ready"})"));

    // Degraded: still serving (ready), but a component waits for an operator; not_ready wins.
    ComponentHealth parked{"projection", true, "1 dead letter", {"projector"}};
    parked.degraded = true;
    json degraded = json::parse(
        write_readiness_json(true, {{"read_store", true, "ok", {"api", "projector"}}, parked}));
    EXPECT_EQ(degraded["status"], "degraded");
    EXPECT_EQ(degraded["roles"], json::parse(R"({"api":"ready","projector":"degraded"})"));
    EXPECT_EQ(degraded["components"][1]["degraded"], true);
    ComponentHealth down{"read_store", false, "unreachable", {"projector"}};
    EXPECT_EQ(json::parse(write_readiness_json(false, {parked, down}))["roles"]["projector"],
              "not_ready");

    StatusReport r;
    r.version = "0.1.0";
    r.roles = {"api", "relay"};
    r.components = {{"bus", true, "ok", {"relay"}}};
    r.outbox = OutboxStats{5, 120, 40, 35};
    r.outbox_known = true;
    r.projection.streams = 9;
    r.projection.positions = {{"local", 35}};
    r.projection_known = true;
    r.relay_published_seq = 35;
    r.gate_waiting = 2;
    r.outbox_partitions = {{0, "p1", "live", false}};
    PartitionPicture stalled;
    stalled.partition = "local";
    stalled.owner = "p1";
    stalled.owner_state = "stale";
    stalled.position = 35;
    stalled.bus_end = 40;
    stalled.behind = 5;
    stalled.moved_ago_ms = 9000;
    stalled.stalled = true;
    stalled.stalled_reason = "its projector p1 has not heartbeated for 9000 ms";
    PartitionPicture unknown;
    unknown.partition = "orders/1";
    r.partitions = {stalled, unknown};
    json s = json::parse(write_status_json(r));
    // The shape the console and operators read: every field present, unknown ones null.
    EXPECT_EQ(s["projection"]["partitions"], json::parse(R"([
        {"partition":"local","owner":"p1","ownerState":"stale","position":35,"busEnd":40,
         "behind":5,"positionMovedAgoMs":9000,"stalled":true,
         "stalledReason":"its projector p1 has not heartbeated for 9000 ms"},
        {"partition":"orders/1","owner":null,"ownerState":null,"position":0,"busEnd":null,
         "behind":null,"positionMovedAgoMs":null,"stalled":false,"stalledReason":null}])"));
    EXPECT_EQ(s["version"], "0.1.0");
    EXPECT_EQ(s["roles"], json::parse(R"(["api","relay"])"));
    EXPECT_EQ(s["outbox"],
              json::parse(R"({"pending":5,"oldestPendingAgeMs":120,"lastSeq":40,"publishedSeq":35,
                        "partitions":[{"partition":0,"owner":"p1","ownerState":"live",
                                       "stalled":false}]})"));
    EXPECT_EQ(s["projection"]["positions"][0], json::parse(R"({"partition":"local","offset":35})"));
    EXPECT_EQ(s["relayPublishedSeq"], 35);
    EXPECT_EQ(s["gateWaiting"], 2);
    r.outbox_known = false;
    r.projection_known = false;
    s = json::parse(write_status_json(r));
    EXPECT_TRUE(s["outbox"].is_null());
    EXPECT_TRUE(s["projection"].is_null());

    // A heartbeat's detail reads back as written; what an older build left out stays default.
    ProcessDetail d;
    d.listen = "127.0.0.1:8080";
    d.assignment = std::vector<std::string>{"orders/0"};
    d.outbox_partitions = std::vector<std::int64_t>{1, 3};
    d.positions = {{"orders/0", 17, 20, 1500, 700}, {"orders/1", 4, std::nullopt, 0, 0}};
    d.relay_published_seq = 12;
    const ProcessDetail back = read_process_detail_json(write_process_detail_json(d));
    EXPECT_EQ(back.listen, d.listen);
    EXPECT_EQ(back.assignment, d.assignment);
    EXPECT_EQ(back.outbox_partitions, d.outbox_partitions);
    EXPECT_EQ(back.relay_published_seq, 12);
    ASSERT_EQ(back.positions.size(), 2u);
    EXPECT_EQ(back.positions[0].position, 17);
    EXPECT_EQ(back.positions[0].end, 20);
    EXPECT_EQ(back.positions[0].moved_ago_ms, 1500);
    EXPECT_EQ(back.positions[0].waiting_ms, 700);
    EXPECT_FALSE(back.positions[1].end);
    const ProcessDetail old_build =
        read_process_detail_json(R"({"positions":[{"partition":"local","offset":3}]})");
    ASSERT_EQ(old_build.positions.size(), 1u);
    EXPECT_EQ(old_build.positions[0].position, 3);
    EXPECT_FALSE(old_build.outbox_partitions);
    EXPECT_TRUE(read_process_detail_json("not json").positions.empty());

    json rebuilt = json::parse(write_rebuild_json(RebuildReport{120, 45}));
    EXPECT_EQ(rebuilt, json::parse(R"({"status":"rebuilt","eventsReplayed":120,"durationMs":45})"));
}

}  // namespace
}  // namespace ordinal
