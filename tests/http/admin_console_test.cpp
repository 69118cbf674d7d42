// The console's admin endpoints (issue 13): dead letters searched by type, reason and time,
// discarded with a reason; the audit log of admin actions; verify run as an admin request; a
// rebuild followed through its request; the overview's lag. Run on SQLite (label http), again on
// PostgreSQL (label pg) and on the Kafka profile (label kafka), like the rest of the HTTP suite;
// every answer is checked against docs/openapi.json.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <thread>

#include "codec/event_json.h"
#include "core/projection_sequencer.h"
#include "domain/time_format.h"
#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

class AdminConsole : public AdminServiceTest {
  protected:
    // A ProductUpserted of `sku` at `version`, parked as a bus with poison would have left it.
    std::string plant(const std::string& sku, std::int64_t version, const std::string& reason,
                      std::int64_t offset) {
        Event e;
        e.event_id = random_uuid();
        e.stream = StreamKey{StreamType::Product, sku};
        e.version = version;
        e.occurred_at = "2026-11-27T09:00:00.000Z";
        e.causation_id = random_uuid();
        e.data = ProductUpserted{sku, "Renamed", "EUR", 250, 5, version};
        const auto reads = service_->open_read_store();
        const Delivery delivery{
            {},
            {dead_letter_of(e, BusPosition{"console-0", offset}, encode_event_envelope(e), reason)},
            BusPosition{"console-0", offset + 1}};
        EXPECT_TRUE(reads->apply_delivery(delivery, {}));
        return "product/" + sku;
    }

    json letters(const std::string& query = {}) {
        const auto r = api().admin_get("/v1/admin/dead-letters" + query);
        EXPECT_EQ(r.status, 200) << r;
        return r.status == 200 ? r.json_body()["deadLetters"] : json::array();
    }

    json audit(int limit = 100) {
        const auto r = api().admin_get("/v1/admin/audit?limit=" + std::to_string(limit));
        EXPECT_EQ(r.status, 200) << r;
        return r.status == 200 ? r.json_body()["entries"] : json::array();
    }

    HttpResponse discard(std::int64_t id, const std::string& body) {
        return api().admin_post("/v1/admin/dead-letters/" + std::to_string(id) + "/discard", body);
    }
};

TEST_F(AdminConsole, DeadLettersAreSearchedByTypeReasonAndTime) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 5);
    api().must_read("/v1/products/" + sku, put.token);
    plant(sku, 2, "failed to apply: disk on fire", 10);
    const auto other = unique_sku();
    plant(other, 3, "waiting behind something", 11);
    ASSERT_EQ(letters().size(), 2u);

    const json by_reason = letters("?reason=disk%20on%20fire");
    ASSERT_EQ(by_reason.size(), 1u) << by_reason;
    EXPECT_EQ(by_reason[0]["stream"], "product/" + sku);
    EXPECT_EQ(letters("?type=ProductUpserted").size(), 2u);
    EXPECT_EQ(letters("?type=OrderPaid").size(), 0u);
    EXPECT_EQ(letters("?type=ProductUpserted&reason=waiting").size(), 1u);
    // Time: everything was parked after 2020 and before 2999; nothing after 2999.
    EXPECT_EQ(letters("?since=2020-01-01T00:00:00Z").size(), 2u);
    EXPECT_EQ(letters("?until=2999-01-01T00:00:00.000Z").size(), 2u);
    EXPECT_EQ(letters("?since=2999-01-01T00:00:00Z").size(), 0u);
    EXPECT_EQ(letters("?until=2020-01-01T00:00:00Z").size(), 0u);
    // The bound is the letter's own time: since its createdAt finds it, until it does not.
    const std::string at = by_reason[0]["createdAt"];
    EXPECT_EQ(letters("?reason=disk&since=" + at).size(), 1u);
    EXPECT_EQ(letters("?reason=disk&until=" + at).size(), 0u);
    // Text that would go into SQL is a bound value, never SQL.
    EXPECT_EQ(letters("?reason=%27%20OR%20%271%27%3D%271").size(), 0u);
    EXPECT_EQ(letters("?type=%25").size(), 0u);

    EXPECT_TRUE(
        IsValidationError(api().admin_get("/v1/admin/dead-letters?since=yesterday"), "since"));
    EXPECT_TRUE(
        IsValidationError(api().admin_get("/v1/admin/dead-letters?until=2026-13-01"), "until"));
    EXPECT_TRUE(IsValidationError(api().admin_get("/v1/admin/dead-letters?type="), "type"));
    EXPECT_TRUE(
        IsValidationError(api().admin_get("/v1/admin/dead-letters?reason=a%00b"), "reason"));
    EXPECT_TRUE(IsValidationError(api().admin_get("/v1/admin/dead-letters?reason=%ff"), "reason"));
}

TEST_F(AdminConsole, ADiscardNeedsAReasonAndLandsInTheAuditLog) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 5);
    api().must_read("/v1/products/" + sku, put.token);
    plant(sku, 2, "failed to apply", 20);
    const json parked = letters("?reason=failed%20to%20apply");
    ASSERT_EQ(parked.size(), 1u);
    const std::int64_t id = parked[0]["id"];

    EXPECT_TRUE(IsValidationError(discard(id, "{}"), "reason"));
    EXPECT_TRUE(IsValidationError(discard(id, R"({"reason":""})"), "reason"));
    EXPECT_TRUE(IsValidationError(discard(id, R"({"reason":7})"), "reason"));
    EXPECT_TRUE(IsValidationError(discard(id, R"({"reason":"x","extra":1})"), "extra"));
    EXPECT_TRUE(IsValidationError(discard(id, "not json"), "body"));
    EXPECT_TRUE(IsError(discard(999999999, R"({"reason":"gone"})"), 404, "not_found"));
    EXPECT_TRUE(
        IsError(api().admin_post("/v1/admin/dead-letters/abc/discard", R"({"reason":"gone"})"), 404,
                "not_found"));
    EXPECT_EQ(letters().size(), 1u) << "a refused discard changes nothing";

    const auto done = discard(id, R"({"reason":"test product, never sold"})");
    ASSERT_EQ(done.status, 200) << done;
    EXPECT_EQ(done.json_body(), json({{"discarded", id}, {"reason", "test product, never sold"}}));
    EXPECT_TRUE(letters().empty()) << "a discarded letter is not listed";
    EXPECT_EQ(api().admin_get("/v1/admin/status").json_body()["projection"]["deadLetters"], 0);
    // Retrying everything does not bring it back, and the stream stays where it was: the read
    // model never claims version 2 without its event.
    const auto retried = api().admin_post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(retried.status, 200) << retried;
    EXPECT_EQ(retried.json_body()["retried"], 0);
    EXPECT_EQ(api().must_read("/v1/products/" + sku)["version"], 1);
    // Discarding it again is a no-op that succeeds (a request run twice finds its work done).
    EXPECT_EQ(discard(id, R"({"reason":"again"})").status, 200);

    // The audit log, newest first: the second discard, the retry, the discard, the 404 (the
    // product PUT's entry is written off its request's thread: left out of the order).
    json entries = json::array();
    for (const auto& e : audit())
        if (e["action"] != "product_upsert") entries.push_back(e);
    ASSERT_GE(entries.size(), 4u) << entries;
    const json& second = entries[0];
    EXPECT_EQ(second["action"], "discard_dead_letter");
    EXPECT_EQ(second["reason"], "again");
    const json& retry = entries[1];
    EXPECT_EQ(retry["action"], "retry_dead_letters");
    EXPECT_TRUE(retry["target"].is_null());
    EXPECT_EQ(retry["outcome"], "done");
    EXPECT_EQ(retry["result"]["retried"], 0);
    const json& first = entries[2];
    EXPECT_EQ(first["action"], "discard_dead_letter");
    EXPECT_EQ(first["target"], "dead-letter/" + std::to_string(id));
    EXPECT_EQ(first["reason"], "test product, never sold");
    EXPECT_EQ(first["outcome"], "done");
    EXPECT_EQ(first["result"]["discarded"], id);
    EXPECT_TRUE(first["error"].is_null());
    EXPECT_TRUE(first["process"].is_string() && !first["process"].get<std::string>().empty());
    EXPECT_TRUE(first["request"].is_number_integer());
    EXPECT_TRUE(std::regex_match(first["at"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
        << first;
    bool refused = false;
    for (const auto& e : entries) {
        if (e["action"] == "discard_dead_letter" && e["outcome"] == "failed" &&
            e["target"] == "dead-letter/999999999") {
            refused = true;
            EXPECT_TRUE(e["result"].is_null());
            EXPECT_EQ(e["error"], "no such dead letter");
        }
    }
    EXPECT_TRUE(refused) << "a discard of an unknown letter is audited as failed: " << entries;
    EXPECT_EQ(audit(1).size(), 1u);
    EXPECT_TRUE(IsValidationError(api().admin_get("/v1/admin/audit?limit=0"), "limit"));
    EXPECT_TRUE(IsValidationError(api().admin_get("/v1/admin/audit?limit=1001"), "limit"));
}

TEST_F(AdminConsole, ARetryNamesTheStreamsItApplied) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 5);
    api().must_read("/v1/products/" + sku, put.token);
    const std::string stream = plant(sku, 2, "failed to apply", 30);
    const std::int64_t id = letters("?reason=failed")[0]["id"];
    const auto r = api().admin_post("/v1/admin/dead-letters/" + std::to_string(id) + "/retry");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json_body()["advanced"],
              json::parse(R"([{"stream":")" + stream + R"(","version":2}])"));
    const auto view = api().admin_get("/v1/admin/streams/" + stream);
    ASSERT_EQ(view.status, 200) << view;
    EXPECT_EQ(view.json_body()["readVersion"], 2);
}

// When the relay published each event and the projector applied it, from the stores' batch
// times (docs/console.md#publish-and-apply-times), on every profile this suite runs on: SQLite
// with the in-process bus, PostgreSQL, and PostgreSQL with Kafka between three processes.
TEST_F(AdminConsole, TheStreamViewShowsWhenEachEventWasPublishedAndApplied) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 5);
    const auto order = api().create_order(random_uuid(), {{sku, 1}});
    api().must_read("/v1/orders/" + order.order_id, order.token);
    const auto paid = api().pay(order.order_id, json{{"paymentRef", "ref-1"}, {"amountMinor", 100}},
                                random_uuid());
    ASSERT_EQ(paid.status, 202) << paid;
    api().must_read("/v1/orders/" + order.order_id,
                    paid.json_body()["consistencyToken"].get<std::string>());
    // Applied now; on the in-process bus the relay marks a batch published just after the
    // projector applied it: read until both times show, bounded.
    json events;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
        const auto view = api().admin_get("/v1/admin/streams/order/" + order.order_id);
        ASSERT_EQ(view.status, 200) << view;
        events = view.json_body()["events"];
        ASSERT_EQ(events.size(), 2u) << events;
        const bool all = std::all_of(events.begin(), events.end(), [](const json& e) {
            return e["publishedAt"].is_string() && e["appliedAt"].is_string();
        });
        if (all || std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (const json& e : events) {
        ASSERT_TRUE(e["publishedAt"].is_string() && e["appliedAt"].is_string()) << e;
        const auto committed = parse_rfc3339_ms(e["committedAt"].get<std::string>());
        const auto published = parse_rfc3339_ms(e["publishedAt"].get<std::string>());
        const auto applied = parse_rfc3339_ms(e["appliedAt"].get<std::string>());
        ASSERT_TRUE(committed && published && applied) << e;
        // One machine's clocks here; a few ms of slack for how each store rounds its clock.
        EXPECT_GE(*published, *committed - 5) << e;
        EXPECT_GE(*applied, *committed - 5) << e;
        EXPECT_LT(*applied - *committed, 60'000) << e;
    }
    // Each event its own batches: the payment was published and applied after the placement.
    EXPECT_GE(parse_rfc3339_ms(events[1]["publishedAt"].get<std::string>()),
              parse_rfc3339_ms(events[0]["publishedAt"].get<std::string>()));
    EXPECT_GE(parse_rfc3339_ms(events[1]["appliedAt"].get<std::string>()),
              parse_rfc3339_ms(events[0]["appliedAt"].get<std::string>()));
}

// The overview's lag chart reads projection.behind from the status: what waits over every bus
// partition whose end is known. Known, and 0 once caught up, on every profile this suite runs on
// — the in-process bus's one partition and Kafka's several, seen from the api process of the
// three — and always the sum the Projections page shows per partition. (Held at a stopped
// projector it counts what waits: ProjectionStall in the kafka tier.)
TEST_F(AdminConsole, TheOverviewsLagIsKnownOnEveryProfileAndZeroOnceCaughtUp) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 50);
    Ack last;
    for (int i = 0; i < 4; ++i) last = api().create_order(random_uuid(), {{sku, 1}});
    api().must_read("/v1/orders/" + last.order_id, last.token);
    const char* topology = std::getenv("ORDINAL_TEST_TOPOLOGY");
    const bool kafka = topology && std::string(topology) == "kafka";
    // Applied; on Kafka the partitions' ends come with the next heartbeats: read until every
    // message shows applied against a known end with nothing behind, bounded.
    json projection;
    std::int64_t known = 0, sum = 0, applied = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        const auto r = api().admin_get("/v1/admin/status");
        ASSERT_EQ(r.status, 200) << r;
        projection = r.json_body()["projection"];
        ASSERT_TRUE(projection.is_object()) << r;
        known = sum = applied = 0;
        for (const json& p : projection["partitions"]) {
            if (p["busEnd"].is_null()) continue;  // not reported yet (or a planted partition)
            ++known;
            sum += p["behind"].get<std::int64_t>();
            applied += p["position"].get<std::int64_t>();
        }
        // Kafka: the next offset per partition; the in-process bus: the last outbox sequence.
        // Five messages: the product and four orders.
        if ((projection["behind"] == 0 && applied >= 5) ||
            std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(projection["behind"], 0) << projection.dump();
    EXPECT_EQ(projection["behind"], sum) << "the partitions' behind, summed";
    EXPECT_GE(applied, 5) << projection.dump();
    ASSERT_GE(known, 1) << projection.dump();
    // The in-process bus has one partition; Kafka's are topic/partition.
    for (const json& p : projection["partitions"]) {
        if (!p["busEnd"].is_null()) {
            EXPECT_EQ(p["partition"] == "local", !kafka) << p;
        }
    }
}

TEST_F(AdminConsole, AProductPutIsAudited) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 5);
    // Written off the request's thread: read until it shows, bounded.
    json found;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (found.is_null() && std::chrono::steady_clock::now() < deadline) {
        for (const auto& e : audit())
            if (e["target"] == "product/" + sku) found = e;
        if (found.is_null()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_FALSE(found.is_null());
    EXPECT_EQ(found["action"], "product_upsert");
    EXPECT_EQ(found["outcome"], "done");
    EXPECT_TRUE(found["result"].is_object()) << found;
    EXPECT_TRUE(found["request"].is_null());
}

TEST_F(AdminConsole, VerifyRunsAsAnAdminRequestAndReportsFindings) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 5);
    const auto order = api().create_order(random_uuid(), {{sku, 2}});
    api().must_read("/v1/orders/" + order.order_id, order.token);
    const auto r = api().admin_post("/v1/admin/verify");
    ASSERT_EQ(r.status, 200) << r;
    const json report = r.json_body();
    EXPECT_EQ(report["clean"], true) << report;
    EXPECT_GE(report["eventsChecked"], 2) << report;
    EXPECT_TRUE(report["findings"].is_array());
    const json entry = audit(1)[0];
    EXPECT_EQ(entry["action"], "verify");
    EXPECT_EQ(entry["outcome"], "done");
    EXPECT_EQ(entry["result"]["clean"], true);

    // Asked without waiting: the request to follow.
    const auto later = api().admin_post("/v1/admin/verify?wait=0");
    ASSERT_TRUE(later.status == 202 || later.status == 200) << later;
    if (later.status == 202) {
        EXPECT_EQ(later.json_body()["kind"], "verify");
    }
}

TEST_F(AdminConsole, ARebuildIsFollowedThroughItsRequest) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 50);
    for (int i = 0; i < 3; ++i) api().create_order(random_uuid(), {{sku, 1}});
    const auto asked = api().admin_post("/v1/admin/projections/rebuild?wait=0");
    ASSERT_TRUE(asked.status == 202 || asked.status == 200) << asked;
    const auto location = asked.header("Location");
    ASSERT_TRUE(location.has_value()) << asked;
    json last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        const auto r = api().admin_get(*location);
        ASSERT_EQ(r.status, 200) << r;
        last = r.json_body();
        if (last["state"] == "done" || last["state"] == "failed") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(last["state"], "done") << last;
    EXPECT_GE(last["result"]["eventsReplayed"], 4) << last;
    EXPECT_EQ(last["progress"]["eventsReplayed"], last["result"]["eventsReplayed"]) << last;
    EXPECT_EQ(audit(1)[0]["action"], "rebuild");
}

TEST_F(AdminConsole, TheNewEndpointsNeedTheBearerToken) {
    HttpClient& c = http();
    for (const auto& r :
         {c.get("/v1/admin/audit"),
          c.request("POST", "/v1/admin/dead-letters/1/discard", R"({"reason":"x"})"),
          c.request("POST", "/v1/admin/verify", "")}) {
        EXPECT_TRUE(IsError(r, 401, "unauthorized")) << r;
    }
}

}  // namespace
}  // namespace ordinal::test
