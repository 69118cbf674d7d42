// Operations endpoints, admin authorization, OpenAPI document, keep-alive and pipelining.
#include <array>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "codec/event_json.h"
#include "core/projection_sequencer.h"
#include "domain/consistency_token.h"
#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

// Prometheus text format: series ("name{labels}") -> value.
std::map<std::string, double> parse_prometheus(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        if (sp == std::string::npos) continue;
        // A sample may carry a timestamp after the value; the series ends at the first space
        // outside the label braces.
        std::size_t end = 0;
        bool in_braces = false, in_quotes = false;
        for (; end < line.size(); ++end) {
            const char c = line[end];
            if (in_quotes) {
                if (c == '\\')
                    ++end;
                else if (c == '"')
                    in_quotes = false;
            } else if (c == '"') {
                in_quotes = true;
            } else if (c == '{') {
                in_braces = true;
            } else if (c == '}') {
                in_braces = false;
            } else if (c == ' ' && !in_braces) {
                break;
            }
        }
        std::istringstream v(line.substr(end));
        double value = 0;
        if (v >> value) out[line.substr(0, end)] = value;
    }
    return out;
}

std::string metric_name(const std::string& series) {
    return series.substr(0, series.find('{'));
}

class Operations : public ServiceTest {};

TEST_F(Operations, HealthzAndReadyz) {
    EXPECT_EQ(api().get("/healthz").status, 200);
    const auto ready = api().get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready;
}

TEST_F(Operations, MetricsArePrometheusTextWithCommandCounts) {
    const auto before_r = api().get("/metrics");
    ASSERT_EQ(before_r.status, 200) << before_r;
    EXPECT_EQ(before_r.header("Content-Type").value_or("").rfind("text/plain", 0), 0u)
        << before_r.header("Content-Type").value_or("");
    const auto before = parse_prometheus(before_r.body);

    const auto sku = unique_sku();
    api().create_product(sku, 100, 1);
    const auto o = api().create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(api().place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid()).status,
              422);
    api().must_command("pay", o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 100}});
    api().must_read("/v1/orders/" + o.order_id, o.token);

    const auto after_r = api().get("/metrics");
    ASSERT_EQ(after_r.status, 200);
    EXPECT_NE(after_r.body.find("# TYPE"), std::string::npos);
    const auto after = parse_prometheus(after_r.body);
    ASSERT_FALSE(after.empty()) << after_r.body;

    // Some command counter grew by the commands just sent, over more than one label set
    // (type and result).
    std::set<std::string> command_series;
    double growth_total = 0, growth_count = 0;
    for (const auto& [series, value] : after) {
        const auto name = metric_name(series);
        if (name.find("command") == std::string::npos) continue;
        const double was = before.count(series) ? before.at(series) : 0.0;
        if (name.ends_with("_total")) {
            growth_total += value - was;
            command_series.insert(series);
        } else if (name.ends_with("_count")) {
            growth_count += value - was;
            command_series.insert(series);
        }
    }
    EXPECT_GE(std::max(growth_total, growth_count), 4.0) << "4 commands were sent; metrics:\n"
                                                         << after_r.body;
    EXPECT_GE(command_series.size(), 2u) << after_r.body;
    bool has_latency_histogram = false, has_http = false, has_outbox = false, has_relay = false,
         has_projection = false;
    for (const auto& [series, _] : after) {
        const auto name = metric_name(series);
        if (name.find("command") != std::string::npos && name.ends_with("_bucket"))
            has_latency_histogram = true;
        if (name.find("http") != std::string::npos) has_http = true;
        if (name.find("outbox") != std::string::npos) has_outbox = true;
        if (name.find("relay") != std::string::npos) has_relay = true;
        if (name.find("projection") != std::string::npos ||
            name.find("projector") != std::string::npos)
            has_projection = true;
    }
    EXPECT_TRUE(has_latency_histogram) << "command latency histogram:\n" << after_r.body;
    EXPECT_TRUE(has_http) << "HTTP request metrics:\n" << after_r.body;
    EXPECT_TRUE(has_outbox) << "outbox metrics:\n" << after_r.body;
    EXPECT_TRUE(has_relay) << "relay position metrics:\n" << after_r.body;
    EXPECT_TRUE(has_projection) << "projection position/lag metrics:\n" << after_r.body;
}

TEST_F(Operations, AdminStatusIsJson) {
    const auto r = api().admin_get("/v1/admin/status");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_TRUE(r.json_body().is_object()) << r;
    const auto text = ascii_lower(r.body);
    EXPECT_NE(text.find("outbox"), std::string::npos) << "status should report the outbox: " << r;
    EXPECT_NE(text.find("projection"), std::string::npos)
        << "status should report the projection: " << r;
}

TEST_F(Operations, RebuildReproducesTheSameReads) {
    const auto s1 = unique_sku("R1"), s2 = unique_sku("R2");
    std::vector<std::string> tokens;
    tokens.push_back(api().create_product(s1, 150, 20, "EUR", "One").token);
    tokens.push_back(api().create_product(s2, 99, nullptr, "EUR", "Two").token);
    tokens.push_back(api().create_product(s1, 175, 30, "EUR", "One v2").token);
    const auto alice = random_uuid(), bob = random_uuid();
    std::vector<std::string> order_ids;
    for (int i = 0; i < 6; ++i) {
        const auto o = api().create_order(i % 2 ? alice : bob, {{s1, i + 1}, {s2, 2}});
        order_ids.push_back(o.order_id);
        tokens.push_back(o.token);
    }
    tokens.push_back(api()
                         .must_command("pay", order_ids[0],
                                       json{{"paymentRef", "p"}, {"amountMinor", 175 + 198}})
                         .token);
    tokens.push_back(api().must_command("ship", order_ids[0], json::object()).token);
    tokens.push_back(api().must_command("cancel", order_ids[1], json{{"reason", "r"}}).token);
    const auto all = join_tokens(tokens);

    auto snapshot = [&]() {
        json s;
        for (const auto& id : order_ids) s["orders"][id] = api().must_read("/v1/orders/" + id, all);
        s["p1"] = api().must_read("/v1/products/" + s1, all);
        s["p2"] = api().must_read("/v1/products/" + s2, all);
        s["alice"] = api().must_read("/v1/users/" + alice + "/orders?limit=100", all);
        s["bob"] = api().must_read("/v1/users/" + bob + "/orders?limit=100", all);
        return s;
    };
    const json before = snapshot();
    EXPECT_EQ(before["p1"]["stock"], 30 - (1 + 3 + 4 + 5 + 6))
        << "the second order (qty 2) was cancelled";

    const auto r = api().admin_post("/v1/admin/projections/rebuild");
    ASSERT_GE(r.status, 200) << r;
    ASSERT_LT(r.status, 300) << r;
    const json after = snapshot();
    EXPECT_EQ(after, before) << "before: " << before.dump(1) << "\nafter: " << after.dump(1);

    // The service goes on as before.
    const auto o = api().create_order(alice, {{s1, 1}});
    EXPECT_EQ(api().must_read("/v1/products/" + s1, o.token)["stock"],
              before["p1"]["stock"].get<int>() - 1);
}

TEST_F(Operations, RebuildTwiceUnderTraffic) {
    const auto sku = unique_sku();
    api().create_product(sku, 10, nullptr);
    std::vector<Ack> acks;
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 10; ++i) acks.push_back(api().create_order(random_uuid(), {{sku, 1}}));
        const auto r = api().admin_post("/v1/admin/projections/rebuild");
        ASSERT_GE(r.status, 200) << r;
        ASSERT_LT(r.status, 300) << r;
    }
    for (const auto& a : acks) {
        const auto v = api().must_read("/v1/orders/" + a.order_id, a.token);
        EXPECT_EQ(v["version"], 1);
    }
}

TEST_F(Operations, RebuildWhileOrdersKeepComing) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 10, 100000);
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<Ack> acks;
    std::vector<std::string> problems;
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
        pool.emplace_back([&] {
            OrdinalApi a(port());
            while (!stop.load()) {
                try {
                    const auto r =
                        a.place_order(order_body(random_uuid(), "EUR", {{sku, 2}}), random_uuid());
                    std::lock_guard lock(mu);
                    if (r.status == 202) {
                        acks.push_back(to_ack(r));
                    } else {
                        problems.push_back(r.describe());
                    }
                } catch (const std::exception& e) {
                    std::lock_guard lock(mu);
                    problems.push_back(e.what());
                }
            }
        });
    }
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto r = api().admin_post("/v1/admin/projections/rebuild");
        EXPECT_GE(r.status, 200) << r;
        EXPECT_LT(r.status, 300) << r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
    for (auto& t : pool) t.join();
    for (const auto& p : problems) ADD_FAILURE() << p;
    ASSERT_FALSE(acks.empty());
    for (const auto& a : acks) {
        const auto v = api().get("/v1/orders/" + a.order_id, a.token, 5000);
        ASSERT_EQ(v.status, 200) << v;
        EXPECT_EQ(v.json_body()["version"], 1);
    }
    EXPECT_EQ(api().must_read("/v1/products/" + sku, put.token)["stock"].get<std::int64_t>(),
              100000 - 2 * static_cast<std::int64_t>(acks.size()))
        << acks.size() << " orders of 2";
}

// ---- OpenAPI ----

std::string normalize_template(const std::string& path) {
    return std::regex_replace(path, std::regex(R"(\{[^}]*\})"), "{}");
}

TEST_F(Operations, OpenApiDocumentsEveryServedPath) {
    const auto r = api().get("/openapi.json");
    ASSERT_EQ(r.status, 200) << r;
    ASSERT_TRUE(r.is_json()) << r;
    const auto doc = r.json_body();
    ASSERT_TRUE(doc.contains("openapi") && doc["openapi"].is_string()) << r.body.substr(0, 500);
    EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u) << doc["openapi"];
    ASSERT_TRUE(doc.contains("info") && doc["info"].is_object());
    ASSERT_TRUE(doc.contains("paths") && doc["paths"].is_object());
    std::map<std::string, json> paths;
    for (const auto& [p, item] : doc["paths"].items()) paths[normalize_template(p)] = item;

    const std::vector<std::pair<std::string, std::vector<std::string>>> served = {
        {"/v1/products/{}", {"put", "get"}},
        {"/v1/orders", {"post"}},
        {"/v1/orders/{}", {"get"}},
        {"/v1/orders/{}/pay", {"post"}},
        {"/v1/orders/{}/ship", {"post"}},
        {"/v1/orders/{}/cancel", {"post"}},
        {"/v1/users/{}/orders", {"get"}},
        {"/healthz", {"get"}},
        {"/readyz", {"get"}},
        {"/metrics", {"get"}},
        {"/openapi.json", {"get"}},
        {"/v1/admin/status", {"get"}},
        {"/v1/admin/projections/rebuild", {"post"}},
        {"/v1/admin/dead-letters", {"get"}},
        {"/v1/admin/dead-letters/retry", {"post"}},
        {"/v1/admin/dead-letters/{}/retry", {"post"}},
        {"/v1/admin/dead-letters/{}/discard", {"post"}},
        {"/v1/admin/audit", {"get"}},
        {"/v1/admin/verify", {"post"}},
        {"/v1/admin/streams/{}/{}", {"get"}},
        {"/v1/admin/consistency", {"get"}},
        {"/console/{}", {"get"}},
        {"/v1/admin/requests/{}", {"get"}},
    };
    for (const auto& [path, methods] : served) {
        ASSERT_TRUE(paths.count(path)) << "missing path " << path;
        for (const auto& m : methods) {
            EXPECT_TRUE(paths[path].contains(m)) << path << " lacks " << m;
            if (!paths[path].contains(m)) continue;
            const auto& op = paths[path][m];
            EXPECT_TRUE(op.contains("responses") && op["responses"].is_object())
                << path << " " << m;
        }
    }
    // The documented success codes match the server's.
    auto has_response = [&](const std::string& path, const std::string& m,
                            const std::string& code) {
        return paths.count(path) && paths[path].contains(m) &&
               paths[path][m].contains("responses") && paths[path][m]["responses"].contains(code);
    };
    const std::vector<std::array<std::string, 3>> documented = {
        {"/v1/orders", "post", "202"},
        {"/v1/orders", "post", "200"},  // duplicates
        {"/v1/orders", "post", "400"},
        {"/v1/orders", "post", "409"},
        {"/v1/orders", "post", "422"},
        {"/v1/products/{}", "put", "202"},
        {"/v1/orders/{}", "get", "200"},
        {"/v1/orders/{}", "get", "404"},
        {"/v1/orders/{}", "get", "503"},
        {"/v1/admin/dead-letters", "get", "200"},
        {"/v1/admin/dead-letters", "get", "400"},
        {"/v1/admin/dead-letters", "get", "401"},
        {"/v1/admin/dead-letters/retry", "post", "200"},
        {"/v1/admin/dead-letters/{}/retry", "post", "200"},
        {"/v1/admin/dead-letters/{}/retry", "post", "404"},
        {"/v1/admin/dead-letters/{}/discard", "post", "200"},
        {"/v1/admin/dead-letters/{}/discard", "post", "202"},
        {"/v1/admin/dead-letters/{}/discard", "post", "400"},
        {"/v1/admin/dead-letters/{}/discard", "post", "404"},
        {"/v1/admin/audit", "get", "200"},
        {"/v1/admin/audit", "get", "400"},
        {"/v1/admin/verify", "post", "200"},
        {"/v1/admin/verify", "post", "202"},
        {"/v1/admin/projections/rebuild", "post", "200"},
        {"/v1/admin/projections/rebuild", "post", "202"},
        {"/v1/admin/requests/{}", "get", "200"},
        {"/v1/admin/requests/{}", "get", "404"},
    };
    for (const auto& [path, method, code] : documented)
        EXPECT_TRUE(has_response(path, method, code)) << method << " " << path << " " << code;
}

// ---- connection handling ----

TEST_F(Operations, KeepAliveReusesOneConnection) {
    HttpClient c(port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(c.get("/healthz").status, 200);
    const auto sku = unique_sku();
    const auto r = c.request("PUT", "/v1/products/" + sku, product_body("k", "EUR", 1, 1).dump(),
                             {{"Idempotency-Key", random_uuid()}});
    ASSERT_TRUE(IsAccepted(r));
    ASSERT_EQ(c.get("/v1/products/" + sku, {{"X-Consistency-Token", to_ack(r).token}}).status, 200);
    ASSERT_EQ(c.get("/v1/orders/" + random_uuid()).status, 404);  // errors keep the connection too
    ASSERT_EQ(c.get("/healthz").status, 200);
    EXPECT_EQ(c.connections_opened(), 1);
}

TEST_F(Operations, PipelinedRequestsAnswerInOrder) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 10, 5);
    HttpClient c(port());
    const auto order = order_body(random_uuid(), "EUR", {{sku, 1}}).dump();
    std::string batch = c.build_request("GET", "/healthz", {}, {});
    batch +=
        c.build_request("GET", "/v1/products/" + sku, {}, {{"X-Consistency-Token", put.token}});
    batch += c.build_request("POST", "/v1/orders", order, {{"Idempotency-Key", random_uuid()}});
    batch += c.build_request("GET", "/v1/orders/" + random_uuid(), {}, {});
    c.send_raw(batch);
    const auto r1 = c.read_response();
    const auto r2 = c.read_response();
    const auto r3 = c.read_response();
    const auto r4 = c.read_response();
    EXPECT_EQ(r1.status, 200) << r1;
    ASSERT_EQ(r2.status, 200) << r2;
    EXPECT_EQ(r2.json_body()["sku"], sku);
    EXPECT_TRUE(IsAccepted(r3));
    EXPECT_TRUE(IsError(r4, 404, "not_found"));
    EXPECT_EQ(c.connections_opened(), 1);
}

TEST_F(Operations, HeaderNamesAreCaseInsensitive) {
    const auto sku = unique_sku();
    HttpClient& c = http();
    const auto put =
        c.request("PUT", "/v1/products/" + sku, product_body("n", "EUR", 5, 5).dump(),
                  {{"idempotency-key", random_uuid()}, {"content-type", "application/json"}});
    ASSERT_TRUE(IsAccepted(put));
    const auto key = random_uuid();
    const auto body = order_body(random_uuid(), "EUR", {{sku, 1}}).dump();
    const auto o = c.request("POST", "/v1/orders", body, {{"IDEMPOTENCY-KEY", key}});
    ASSERT_TRUE(IsAccepted(o));
    EXPECT_TRUE(IsDuplicate(c.request("POST", "/v1/orders", body, {{"idempotency-key", key}})));
    const auto r =
        c.get("/v1/orders/" + to_ack(o).order_id,
              {{"x-consistency-token", to_ack(o).token}, {"x-consistency-wait-ms", "3000"}});
    EXPECT_EQ(r.status, 200) << r;
}

TEST_F(Operations, ExpectContinueIsServed) {
    const auto sku = unique_sku();
    api().create_product(sku, 5, nullptr);
    HttpClient c(port());
    const auto r =
        c.request("POST", "/v1/orders", order_body(random_uuid(), "EUR", {{sku, 1}}).dump(),
                  {{"Idempotency-Key", random_uuid()}, {"Expect", "100-continue"}});
    EXPECT_TRUE(IsAccepted(r));
}

TEST_F(Operations, ConnectionCloseIsHonoured) {
    HttpClient c(port());
    c.send_raw(c.build_request("GET", "/healthz", {}, {{"Connection", "close"}}));
    EXPECT_EQ(c.read_response().status, 200);
    EXPECT_TRUE(c.wait_closed_by_peer(std::chrono::seconds(3)));
}

// ---- admin token ----

class Admin : public AdminServiceTest {};

TEST_F(Admin, PutProductNeedsTheBearerToken) {
    const auto sku = unique_sku();
    const auto body = product_body("n", "EUR", 1, 1).dump();
    const auto key = random_uuid();
    HttpClient& c = http();
    EXPECT_TRUE(IsErrorStatus(
        c.request("PUT", "/v1/products/" + sku, body, {{"Idempotency-Key", key}}), 401));
    EXPECT_TRUE(
        IsErrorStatus(c.request("PUT", "/v1/products/" + sku, body,
                                {{"Idempotency-Key", key}, {"Authorization", "Bearer wrong"}}),
                      401));
    EXPECT_TRUE(IsErrorStatus(
        c.request("PUT", "/v1/products/" + sku, body,
                  {{"Idempotency-Key", key},
                   {"Authorization", std::string("Bearer ") + kTestAdminToken + "x"}}),
        401));
    EXPECT_TRUE(IsErrorStatus(
        c.request(
            "PUT", "/v1/products/" + sku, body,
            {{"Idempotency-Key", key}, {"Authorization", std::string("Basic ") + kTestAdminToken}}),
        401));
    EXPECT_TRUE(IsErrorStatus(c.request("PUT", "/v1/products/" + sku, body,
                                        {{"Idempotency-Key", key}, {"Authorization", "Bearer"}}),
                              401));
    // The refused attempts left no record under the key.
    const auto ok = c.request(
        "PUT", "/v1/products/" + sku, body,
        {{"Idempotency-Key", key}, {"Authorization", std::string("Bearer ") + kTestAdminToken}});
    EXPECT_TRUE(IsAccepted(ok));
    EXPECT_EQ(api().get("/v1/products/" + sku, to_ack(ok).token).status, 200)
        << "reads need no token";
}

TEST_F(Admin, AdminEndpointsNeedTheBearerToken) {
    HttpClient& c = http();
    EXPECT_TRUE(IsErrorStatus(c.get("/v1/admin/status"), 401));
    EXPECT_TRUE(IsErrorStatus(c.get("/v1/admin/status", {{"Authorization", "Bearer nope"}}), 401));
    EXPECT_EQ(
        c.get("/v1/admin/status", {{"Authorization", std::string("Bearer ") + kTestAdminToken}})
            .status,
        200);
    EXPECT_TRUE(IsErrorStatus(c.request("POST", "/v1/admin/projections/rebuild", "{}"), 401));
    EXPECT_TRUE(IsErrorStatus(c.request("POST", "/v1/admin/projections/rebuild", "{}",
                                        {{"Authorization", "Bearer nope"}}),
                              401));
    // Near misses, and a right token smuggled next to a wrong one in a repeated header.
    const std::string token = kTestAdminToken;
    for (const Headers& near : std::vector<Headers>{
             {{"Authorization", "Bearer " + token.substr(0, token.size() - 1)}},
             {{"Authorization", "Bearer " + upper(token)}},
             {{"Authorization", "Bearer " + token + "x"}},
             {{"Authorization", token}},
             {{"Authorization", "Bearer nope"}, {"Authorization", "Bearer " + token}},
             {{"Authorization", "Bearer " + token}, {"Authorization", "Bearer nope"}}}) {
        EXPECT_TRUE(IsErrorStatus(c.get("/v1/admin/status", near), 401)) << near.front().second;
    }
    const auto r = c.request("POST", "/v1/admin/projections/rebuild", "{}",
                             {{"Authorization", std::string("Bearer ") + kTestAdminToken}});
    EXPECT_GE(r.status, 200) << r;
    EXPECT_LT(r.status, 300) << r;
}

// ---- dead letters ----
// The in-process bus never dead-letters, so the test plants letters through a second handle on
// the read store, as a bus with poison (Kafka) would have left them.

TEST_F(Admin, DeadLetterEndpointsNeedTheBearerToken) {
    HttpClient& c = http();
    const Headers wrong{{"Authorization", "Bearer nope"}};
    for (const auto& r : {c.get("/v1/admin/dead-letters"), c.get("/v1/admin/dead-letters", wrong),
                          c.request("POST", "/v1/admin/dead-letters/retry", ""),
                          c.request("POST", "/v1/admin/dead-letters/retry", "", wrong),
                          c.request("POST", "/v1/admin/dead-letters/1/retry", "")}) {
        EXPECT_TRUE(IsError(r, 401, "unauthorized")) << r;
    }
    const auto ok = api().admin_get("/v1/admin/dead-letters");
    ASSERT_EQ(ok.status, 200) << ok;
    EXPECT_EQ(ok.json_body(), json::parse(R"({"deadLetters":[]})"));
}

TEST_F(Admin, DeadLettersAreListedAndRetried) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 5);
    api().must_read("/v1/products/" + sku, put.token);  // version 1 is projected (on any bus)
    // Version 2 of the product failed to apply when the bus delivered it; an order's first
    // message could not even be read.
    Event upserted;
    upserted.event_id = random_uuid();
    upserted.stream = StreamKey{StreamType::Product, sku};
    upserted.version = 2;
    upserted.occurred_at = "2026-11-27T09:00:00.000Z";
    upserted.causation_id = random_uuid();
    upserted.data = ProductUpserted{sku, "Renamed", "EUR", 250, 5, 2};
    const std::string envelope = encode_event_envelope(upserted);
    DeadLetter unreadable;
    unreadable.position = BusPosition{"orders-0", 8};
    unreadable.stream = "order/" + random_uuid();
    unreadable.version = 1;
    unreadable.payload = "garbage";
    unreadable.reason = "undecodable: not JSON";
    {
        const auto reads = service_->open_read_store();
        const Delivery delivery{
            {},
            {dead_letter_of(upserted, BusPosition{"orders-0", 7}, envelope, "failed to apply"),
             unreadable},
            BusPosition{"orders-0", 9}};
        ASSERT_TRUE(reads->apply_delivery(delivery, {}));
    }

    const auto list = api().admin_get("/v1/admin/dead-letters");
    ASSERT_EQ(list.status, 200) << list;
    const json letters = list.json_body()["deadLetters"];
    ASSERT_EQ(letters.size(), 2u) << list;
    const json& first = letters[0];
    ASSERT_TRUE(first["id"].is_number_integer()) << first;
    EXPECT_EQ(first["partition"], "orders-0");
    EXPECT_EQ(first["offset"], 7);
    EXPECT_EQ(first["stream"], "product/" + sku);
    EXPECT_EQ(first["version"], 2);
    EXPECT_EQ(first["eventType"], "ProductUpserted");
    EXPECT_EQ(first["payload"], envelope);
    EXPECT_EQ(first["reason"], "failed to apply");
    EXPECT_TRUE(std::regex_match(first["createdAt"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
        << first;
    EXPECT_EQ(letters[1]["payload"], "garbage");
    EXPECT_EQ(api().admin_get("/v1/admin/dead-letters?limit=1").json_body()["deadLetters"].size(),
              1u);
    EXPECT_TRUE(IsValidationError(api().admin_get("/v1/admin/dead-letters?limit=0")));
    EXPECT_EQ(api().admin_get("/v1/admin/status").json_body()["projection"]["deadLetters"], 2);

    EXPECT_TRUE(
        IsError(api().admin_post("/v1/admin/dead-letters/999999999/retry"), 404, "not_found"));
    EXPECT_TRUE(IsError(api().admin_post("/v1/admin/dead-letters/abc/retry"), 404, "not_found"));

    // A query waiting for version 2 is let through by the retry (the gate hears of it).
    const std::string token = encode_consistency_token({{upserted.stream, 2}});
    auto waiting = std::async(std::launch::async,
                              [&] { return new_api()->get("/v1/products/" + sku, token, 5000); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto one = api().admin_post("/v1/admin/dead-letters/" +
                                      std::to_string(first["id"].get<std::int64_t>()) + "/retry");
    ASSERT_EQ(one.status, 200) << one;
    EXPECT_EQ(
        one.json_body(),
        json::parse(R"({"retried":1,"applied":1,"remaining":0,"advanced":[{"stream":"product/)" +
                    sku + R"(","version":2}]})"));
    const auto product = waiting.get();
    ASSERT_EQ(product.status, 200) << product;
    EXPECT_EQ(product.json_body()["version"], 2);
    EXPECT_EQ(product.json_body()["name"], "Renamed");

    const auto all = api().admin_post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(all.status, 200) << all;
    EXPECT_EQ(all.json_body(),
              json::parse(R"({"retried":1,"applied":0,"remaining":1,"advanced":[]})"));
    const json left = api().admin_get("/v1/admin/dead-letters").json_body()["deadLetters"];
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0]["reason"].get<std::string>().rfind("undecodable: ", 0), 0u) << left;
    EXPECT_EQ(api().admin_get("/v1/admin/status").json_body()["projection"]["deadLetters"], 1);
}

TEST_F(Admin, OrdersAndReadsNeedNoToken) {
    const auto sku = unique_sku();
    api().create_product(sku, 5, nullptr);  // with the token
    OrdinalApi anonymous(port());
    const auto r =
        anonymous.place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
    ASSERT_TRUE(IsAccepted(r));
    const auto id = to_ack(r).order_id;
    EXPECT_EQ(anonymous.get("/v1/orders/" + id, to_ack(r).token).status, 200);
    EXPECT_TRUE(IsAccepted(
        anonymous.pay(id, json{{"paymentRef", "p"}, {"amountMinor", 5}}, random_uuid())));
    EXPECT_EQ(anonymous.get("/healthz").status, 200);
    EXPECT_EQ(anonymous.get("/metrics").status, 200);
    EXPECT_NE(anonymous.get("/openapi.json").status, 401);
}

}  // namespace
}  // namespace ordinal::test
