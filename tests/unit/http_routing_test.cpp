// The HTTP contract at the level of the request handler (adapters/http/request_handler.h): routing,
// status codes, headers and bodies, with in-memory fakes behind the real CommandService and
// ConsistencyGate. No sockets here; http_server_test.cpp covers the connection handling.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "adapters/http/request_handler.h"
#include "codec/order_cursor.h"
#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "domain/consistency_token.h"
#include "support/fake_stores.h"
#include "support/faulty_write_store.h"
#include "support/internals.h"
#include "support/local_admin.h"

namespace ordinal {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kKey = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
constexpr const char* kKey2 = "9b2f7c1e-0a4d-4c55-8f00-1234567890ab";
constexpr const char* kOrderId = "0190f0a4-6b3c-7d2e-8f10-112233445566";
constexpr const char* kUser = "5d0c1a7e-2b3f-4c6d-9e8f-a1b2c3d4e5f6";

using FakeWriteStore = test_support::ScriptedWriteStore;

class FakeReadStore final : public test_support::EmptyReadStore {
  public:
    Expected<std::optional<Order>, StoreError> get_order(const std::string& id) override {
        std::lock_guard lock(mu_);
        if (throws) throw std::runtime_error(failure);
        if (fail) return unexpected(StoreError{StoreError::Kind::Internal, failure});
        auto it = orders.find(id);
        if (it == orders.end()) return std::optional<Order>{};
        return std::optional<Order>{it->second};
    }
    Expected<OrderPage, StoreError> list_user_orders(
        const std::string& user, std::size_t limit,
        const std::optional<OrderCursor>& after) override {
        std::lock_guard lock(mu_);
        last_limit = limit;
        last_after = after;
        OrderPage page;
        for (const auto& [id, o] : orders) {
            if (o.user_id == user) page.orders.push_back(o);
        }
        if (page.orders.size() > limit) {
            page.orders.resize(limit);
            page.next = OrderCursor{page.orders.back().created_at, page.orders.back().id};
        }
        return page;
    }
    Expected<std::optional<ProductView>, StoreError> get_product(const std::string& sku) override {
        std::lock_guard lock(mu_);
        auto it = products.find(sku);
        if (it == products.end()) return std::optional<ProductView>{};
        return std::optional<ProductView>{it->second};
    }
    Expected<std::int64_t, StoreError> stream_version(const StreamKey& stream) override {
        std::lock_guard lock(mu_);
        auto it = versions.find(stream);
        return it == versions.end() ? 0 : it->second;
    }
    Expected<std::int64_t, StoreError> dead_letter_count() override {
        std::lock_guard lock(mu_);
        return static_cast<std::int64_t>(dead_letters.size());
    }
    Expected<std::vector<DeadLetter>, StoreError> list_dead_letters(
        const DeadLetterQuery& query) override {
        const std::size_t limit = query.limit;
        std::lock_guard lock(mu_);
        last_limit = limit;
        if (fail) return unexpected(StoreError{StoreError::Kind::Internal, "secret detail"});
        std::vector<DeadLetter> out(dead_letters.begin(),
                                    dead_letters.begin() + std::min(limit, dead_letters.size()));
        return out;
    }
    // Removes the letters asked for; the ones with version 0 stay (as undecodable ones do).
    Expected<DeadLetterRetry, StoreError> retry_dead_letters(
        std::optional<std::int64_t> id) override {
        std::lock_guard lock(mu_);
        if (fail) return unexpected(StoreError{StoreError::Kind::Unavailable, "secret detail"});
        DeadLetterRetry r;
        std::vector<DeadLetter> kept;
        for (DeadLetter& d : dead_letters) {
            if (id && d.id != *id) {
                kept.push_back(std::move(d));
                continue;
            }
            ++r.retried;
            if (d.version == 0) {
                ++r.remaining;
                kept.push_back(std::move(d));
            } else {
                ++r.applied;
            }
        }
        dead_letters = std::move(kept);
        return r;
    }

    std::mutex mu_;
    std::map<std::string, Order> orders;
    std::map<std::string, ProductView> products;
    std::map<StreamKey, std::int64_t> versions;
    bool fail = false;
    bool throws = false;
    std::string failure = "SELECT failed: secret detail";
    std::size_t last_limit = 0;
    std::optional<OrderCursor> last_after;
    std::vector<DeadLetter> dead_letters;
};

class FixedIds final : public IdGenerator {
  public:
    std::string new_uuid_v7() override { return kOrderId; }
};

Order order_of(const std::string& id, const std::string& user, const std::string& created) {
    Order o;
    o.id = id;
    o.user_id = user;
    o.currency = "EUR";
    o.lines = {{"A", 1, 100}};
    o.total_minor = 100;
    o.version = 1;
    o.created_at = created;
    o.updated_at = created;
    return o;
}

// As the store lists them: at offset 10 * id, created a second after midnight for each id.
DeadLetter dead_letter(std::int64_t id, std::string stream, std::int64_t version,
                       std::string payload) {
    DeadLetter d;
    d.id = id;
    d.position = BusPosition{"orders-0", 10 * id};
    d.stream = std::move(stream);
    d.version = version;
    d.event_type = version ? "OrderPaid" : "";
    d.payload = std::move(payload);
    d.reason = version ? "projection: no order row" : "undecodable: x";
    d.created_at = "2026-01-01T00:00:0" + std::to_string(id % 10) + ".000Z";
    return d;
}

class HttpRouting : public ::testing::Test {
  protected:
    HttpRouting() { rebuild_handler(); }

    void rebuild_handler(std::string_view openapi = "{\"openapi\":\"3.0.3\"}") {
        ServiceApi api;
        api.commands = &commands;
        api.reads = &reads;
        api.gate = &gate;
        api.metrics = &metrics;
        api.admin_token = admin_token;
        api.readiness = readiness;
        api.status = [] {
            StatusReport r;
            r.version = "test";
            return r;
        };
        admin.reset();  // the worker of the last handler first
        admin = std::make_unique<test_support::LocalAdmin>(reads, metrics, rebuild);
        api.admin = &admin->desk();
        handler = std::make_unique<RequestHandler>(
            api, [](std::function<void()> job) { job(); }, openapi);
    }

    HttpAnswer call(HttpRequest request) {
        auto promise = std::make_shared<std::promise<HttpAnswer>>();
        auto future = promise->get_future();
        handler->handle(std::move(request),
                        [promise](HttpAnswer a) { promise->set_value(std::move(a)); });
        if (future.wait_for(15s) != std::future_status::ready) {
            ADD_FAILURE() << "no answer";
            return HttpAnswer{0, "", "", {}};
        }
        return future.get();
    }

    HttpAnswer get(const std::string& target, std::optional<std::string> token = std::nullopt,
                   std::optional<std::string> wait = std::nullopt) {
        HttpRequest r;
        r.method = "GET";
        r.target = target;
        r.consistency_token = std::move(token);
        r.consistency_wait_ms = std::move(wait);
        return call(std::move(r));
    }

    HttpAnswer command(const std::string& method, const std::string& target,
                       const std::string& body, std::optional<std::string> key = kKey,
                       std::optional<std::string> content_type = "application/json",
                       std::optional<std::string> authorization = std::nullopt) {
        HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.idempotency_key = std::move(key);
        r.content_type = std::move(content_type);
        r.authorization = std::move(authorization);
        return call(std::move(r));
    }

    static json body(const HttpAnswer& a) { return json::parse(a.body); }
    static std::optional<std::string> header(const HttpAnswer& a, const std::string& name) {
        for (const auto& [k, v] : a.headers) {
            if (k == name) return v;
        }
        return std::nullopt;
    }

    FakeWriteStore store;
    test_support::NoCache cache;
    MetricsRegistry metrics;
    FixedIds ids;
    CommandService commands{store, cache, metrics, ids, CommandServiceOptions{}};
    FakeReadStore reads;
    ConsistencyGate gate{reads, 0ms};
    std::string admin_token;
    std::function<std::vector<ComponentHealth>()> readiness;
    // Set: a projector runs (the admin worker); unset: requests stay queued.
    std::function<Expected<RebuildReport, StoreError>()> rebuild = [] {
        return Expected<RebuildReport, StoreError>(RebuildReport{});
    };
    std::unique_ptr<test_support::LocalAdmin> admin;
    std::unique_ptr<RequestHandler> handler;
};

const std::string kProduct = R"({"name":"Tea","currency":"EUR","priceMinor":450,"stock":10})";
const std::string kPlace =
    std::string(R"({"userId":")") + kUser + R"(","currency":"EUR","items":[{"sku":"A","qty":1}]})";

// --- routing -------------------------------------------------------------------------------------

TEST_F(HttpRouting, HealthzAndUnknownPaths) {
    auto ok = get("/healthz");
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(body(ok), json::parse(R"({"status":"ok"})"));
    EXPECT_EQ(ok.content_type, "application/json");

    for (std::string path :
         std::vector<std::string>{"/", "/nope", "/v1", "/v1/orders/", "/v1/orders/x/y/z",
                                  "/v1/products", "/healthz/", "/v1/users/" + std::string(kUser),
                                  "/v1/orders/" + std::string(kOrderId) + "/refund"}) {
        auto a = get(path);
        EXPECT_EQ(a.status, 404u) << path;
        EXPECT_EQ(body(a)["error"], "not_found") << path;
        EXPECT_EQ(a.content_type, "application/json");
    }
}

TEST_F(HttpRouting, WrongMethodIs405WithAllow) {
    auto a = command("DELETE", std::string("/v1/orders/") + kOrderId, "");
    EXPECT_EQ(a.status, 405u);
    EXPECT_EQ(header(a, "Allow"), "GET");
    EXPECT_EQ(body(a)["error"], "method_not_allowed");
    EXPECT_EQ(header(get("/v1/orders"), "Allow"), "POST");
    EXPECT_EQ(get("/v1/orders").status, 405u);
    auto p = command("POST", "/v1/products/SKU", kProduct);
    EXPECT_EQ(p.status, 405u);
    EXPECT_EQ(header(p, "Allow"), "GET, PUT");
    EXPECT_EQ(header(command("GET", std::string("/v1/orders/") + kOrderId + "/pay", ""), "Allow"),
              "POST");
    EXPECT_EQ(command("PUT", "/healthz", "").status, 405u);
    EXPECT_EQ(get("/v1/admin/projections/rebuild").status, 405u);
}

// --- commands ------------------------------------------------------------------------------------

TEST_F(HttpRouting, UpsertProductAcceptedThenDuplicateThenKeyReused) {
    auto first = command("PUT", "/v1/products/SKU-1", kProduct);
    ASSERT_EQ(first.status, 202u) << first.body;
    const json ack = body(first);
    EXPECT_EQ(ack["status"], "accepted");
    EXPECT_EQ(ack["streamId"], "SKU-1");
    EXPECT_EQ(ack["version"], 1);
    EXPECT_FALSE(ack.contains("orderId"));
    EXPECT_EQ(header(first, "X-Consistency-Token"), ack["consistencyToken"].get<std::string>());
    EXPECT_FALSE(header(first, "Location").has_value());

    // Same key, same payload in another spelling: the original answer as a duplicate.
    auto again = command("PUT", "/v1/products/SKU-1",
                         R"({ "stock":10, "priceMinor":450, "currency":"EUR", "name":"Tea" })",
                         "3F2504E0-4F89-41D3-9A0C-0305E82C3301");
    ASSERT_EQ(again.status, 200u);
    EXPECT_EQ(body(again)["status"], "duplicate");
    EXPECT_EQ(body(again)["eventId"], ack["eventId"]);

    auto reused = command("PUT", "/v1/products/SKU-1",
                          R"({"name":"Coffee","currency":"EUR","priceMinor":450,"stock":10})");
    EXPECT_EQ(reused.status, 409u);
    EXPECT_EQ(body(reused)["error"], "idempotency_key_reused");

    auto other_target = command("PUT", "/v1/products/SKU-2", kProduct);
    EXPECT_EQ(other_target.status, 409u);
}

TEST_F(HttpRouting, PlaceOrderAssignsIdAndLocation) {
    auto a = command("POST", "/v1/orders", kPlace);
    ASSERT_EQ(a.status, 202u) << a.body;
    EXPECT_EQ(body(a)["orderId"], kOrderId);
    EXPECT_EQ(header(a, "Location"), std::string("/v1/orders/") + kOrderId);
    ASSERT_EQ(store.submitted.size(), 1u);
    EXPECT_EQ(std::get<PlaceOrder>(store.submitted[0].command).order_id, kOrderId);

    auto dup = command("POST", "/v1/orders", kPlace);
    EXPECT_EQ(dup.status, 200u);
    EXPECT_EQ(header(dup, "Location"), std::string("/v1/orders/") + kOrderId);
}

TEST_F(HttpRouting, IdempotencyKeyInTheBody) {
    std::string with_key = R"({"idempotencyKey":")" + std::string(kKey2) + R"(","reason":"x"})";
    auto a =
        command("POST", std::string("/v1/orders/") + kOrderId + "/cancel", with_key, std::nullopt);
    EXPECT_EQ(a.status, 202u) << a.body;
    EXPECT_EQ(store.submitted.at(0).idempotency_key, kKey2);

    auto differ =
        command("POST", std::string("/v1/orders/") + kOrderId + "/cancel", with_key, kKey);
    EXPECT_EQ(differ.status, 400u);
    EXPECT_EQ(body(differ)["details"][0]["field"], "idempotencyKey");

    auto missing = command("POST", std::string("/v1/orders/") + kOrderId + "/ship", "",
                           std::nullopt, std::nullopt);
    EXPECT_EQ(missing.status, 400u);
    EXPECT_EQ(body(missing)["error"], "validation_failed");
}

TEST_F(HttpRouting, ShipWithoutBodyOrContentType) {
    auto a =
        command("POST", std::string("/v1/orders/") + kOrderId + "/ship", "", kKey, std::nullopt);
    EXPECT_EQ(a.status, 202u) << a.body;
}

TEST_F(HttpRouting, MediaTypes) {
    const std::string target = "/v1/products/SKU-1";
    EXPECT_EQ(command("PUT", target, kProduct, kKey, "text/plain").status, 415u);
    EXPECT_EQ(body(command("PUT", target, kProduct, kKey, "text/plain"))["error"],
              "unsupported_media_type");
    EXPECT_EQ(command("PUT", target, kProduct, kKey, std::nullopt).status, 415u);
    EXPECT_EQ(command("PUT", target, kProduct, kKey, "application/json; charset=latin1").status,
              415u);
    EXPECT_EQ(command("PUT", target, kProduct, kKey, "application/x-www-form-urlencoded").status,
              415u);
    EXPECT_EQ(command("PUT", target, kProduct, kKey, "Application/JSON; charset=\"UTF-8\"").status,
              202u);
    EXPECT_EQ(command("PUT", target, kProduct, kKey2, "application/merge-patch+json").status, 202u);
}

TEST_F(HttpRouting, MalformedAndInvalidBodies) {
    auto malformed = command("POST", "/v1/orders", "{\"userId\":");
    EXPECT_EQ(malformed.status, 400u);
    EXPECT_EQ(body(malformed)["error"], "validation_failed");
    EXPECT_EQ(body(malformed)["details"][0]["field"], "body");

    auto invalid =
        command("POST", "/v1/orders",
                R"({"userId":"u","currency":"EUR","items":[{"sku":"A","qty":0}],"x":1})");
    ASSERT_EQ(invalid.status, 400u);
    const json d = body(invalid)["details"];
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0]["field"], "userId");
    EXPECT_EQ(d[1]["field"], "items[0].qty");
    EXPECT_EQ(d[2]["field"], "x");
    EXPECT_TRUE(store.submitted.empty());

    std::string bad_utf8 = "{\"reason\":\"\xFF\"}";
    auto utf = command("POST", std::string("/v1/orders/") + kOrderId + "/cancel", bad_utf8);
    EXPECT_EQ(utf.status, 400u);
    EXPECT_TRUE(json::accept(utf.body));
}

TEST_F(HttpRouting, UsedKeyWinsOverFieldValidation) {
    ASSERT_EQ(command("PUT", "/v1/products/SKU-1", kProduct).status, 202u);
    // Same key, invalid fields: the key was used with another payload.
    auto a =
        command("PUT", "/v1/products/SKU-1", R"({"name":"","currency":"EUR","priceMinor":-1})");
    EXPECT_EQ(a.status, 409u);
    EXPECT_EQ(body(a)["error"], "idempotency_key_reused");
    // A fresh key with invalid fields is a plain 400.
    auto b = command("PUT", "/v1/products/SKU-1", R"({"name":"","currency":"EUR","priceMinor":-1})",
                     kKey2);
    EXPECT_EQ(b.status, 400u);
    // When the store cannot tell, the answer is still the certain 400.
    store.fail_lookups = true;
    auto c = command("PUT", "/v1/products/SKU-1", R"({"name":""})", kKey);
    EXPECT_EQ(c.status, 400u);
}

TEST_F(HttpRouting, InvalidSkuInPutPathIsAFieldError) {
    auto a = command("PUT", "/v1/products/bad%20sku", kProduct);
    ASSERT_EQ(a.status, 400u);
    EXPECT_EQ(body(a)["details"][0]["field"], "sku");
    auto decoded = command("PUT", "/v1/products/%41BC", kProduct);
    ASSERT_EQ(decoded.status, 202u);
    EXPECT_EQ(body(decoded)["streamId"], "ABC");
}

TEST_F(HttpRouting, OrderCommandOnNonUuidIs404) {
    EXPECT_EQ(command("POST", "/v1/orders/not-a-uuid/pay", R"({"paymentRef":"p","amountMinor":1})")
                  .status,
              404u);
    EXPECT_EQ(command("POST", "/v1/orders/not-a-uuid/ship", "{}").status, 404u);
    auto upper = command("POST", "/v1/orders/0190F0A4-6B3C-7D2E-8F10-112233445566/ship", "{}");
    EXPECT_EQ(upper.status, 202u);
    EXPECT_EQ(std::get<ShipOrder>(store.submitted.at(0).command).order_id, kOrderId);
}

TEST_F(HttpRouting, DomainErrorsAndStoreErrorsMapToTheContract) {
    const std::string pay = std::string("/v1/orders/") + kOrderId + "/pay";
    const std::string pay_body = R"({"paymentRef":"p","amountMinor":100,"expectedVersion":1})";
    auto run = [&](CommandOutcome outcome) {
        store.next = std::move(outcome);
        return command("POST", pay, pay_body);
    };
    DomainError e;
    e.code = DomainError::Code::VersionConflict;
    e.message = "moved on";
    e.current_version = 3;
    auto a = run(e);
    EXPECT_EQ(a.status, 409u);
    EXPECT_EQ(body(a)["error"], "version_conflict");
    EXPECT_EQ(body(a)["currentVersion"], 3);

    e = DomainError{DomainError::Code::NotFound, "order not found", {}, {}, {}, {}};
    EXPECT_EQ(run(e).status, 404u);

    e = DomainError{DomainError::Code::InsufficientStock, "short", std::string("A"), {}, {}, {}};
    a = run(e);
    EXPECT_EQ(a.status, 422u);
    EXPECT_EQ(body(a)["error"], "insufficient_stock");
    EXPECT_EQ(body(a)["sku"], "A");

    e = DomainError{DomainError::Code::UnknownSku, "unknown", std::string("Z"), {}, {}, {}};
    EXPECT_EQ(body(run(e))["error"], "unknown_sku");
    e = DomainError{DomainError::Code::CurrencyMismatch, "usd", std::string("Z"), {}, {}, {}};
    EXPECT_EQ(body(run(e))["error"], "currency_mismatch");
    e = DomainError{DomainError::Code::AmountMismatch, "amount", {}, {}, {}, {}};
    a = run(e);
    EXPECT_EQ(a.status, 422u);
    EXPECT_EQ(body(a)["error"], "amount_mismatch");

    e = DomainError{DomainError::Code::InvalidTransition,
                    "no",
                    {},
                    {},
                    std::string("SHIPPED"),
                    std::string("PAID")};
    a = run(e);
    EXPECT_EQ(a.status, 422u);
    EXPECT_EQ(body(a)["from"], "SHIPPED");
    EXPECT_EQ(body(a)["to"], "PAID");

    e = DomainError{DomainError::Code::TotalOverflow, "too big", {}, {}, {}, {}};
    a = run(e);
    EXPECT_EQ(a.status, 400u);
    EXPECT_EQ(body(a)["error"], "validation_failed");
    EXPECT_EQ(body(a)["details"][0]["field"], "items");

    a = run(StoreError{StoreError::Kind::Overloaded, "queue full"});
    EXPECT_EQ(a.status, 503u);
    EXPECT_EQ(body(a)["error"], "overloaded");
    EXPECT_EQ(header(a, "Retry-After"), "1");

    a = run(StoreError{StoreError::Kind::Internal, "disk I/O error at /var/lib/secret.db"});
    EXPECT_EQ(a.status, 503u);
    EXPECT_EQ(body(a)["error"], "unavailable");
    EXPECT_EQ(a.body.find("secret"), std::string::npos);
    EXPECT_TRUE(header(a, "Retry-After").has_value());
}

// src/README.md "Error policy": what a store or a handler says about a failure goes to the log
// only.
TEST_F(HttpRouting, FailuresNeverShowTheirInternals) {
    const std::string internals =
        "sqlite: INSERT INTO events (event_id) VALUES (?): disk I/O error at "
        "/tmp/ordinal-x/write.db (code 778); postgres: server closed the connection unexpectedly";
    const std::string pay = std::string("/v1/orders/") + kOrderId + "/pay";
    const std::string pay_body = R"({"paymentRef":"p","amountMinor":100})";
    std::vector<HttpAnswer> answers;
    for (auto kind : {StoreError::Kind::Unavailable, StoreError::Kind::Overloaded,
                      StoreError::Kind::Timeout, StoreError::Kind::Internal}) {
        store.next = StoreError{kind, internals};
        answers.push_back(command("POST", pay, pay_body));
    }
    store.throw_on_submit = internals;
    answers.push_back(command("POST", pay, pay_body, kKey2));
    reads.fail = true;
    reads.failure = internals;
    answers.push_back(get(std::string("/v1/orders/") + kOrderId));
    reads.throws = true;
    answers.push_back(get(std::string("/v1/orders/") + kOrderId));
    rebuild = [&] {
        return Expected<RebuildReport, StoreError>(
            unexpected(StoreError{StoreError::Kind::Internal, internals}));
    };
    rebuild_handler();
    answers.push_back(
        command("POST", "/v1/admin/projections/rebuild", "", std::nullopt, std::nullopt));
    for (const auto& a : answers) {
        EXPECT_GE(a.status, 500u) << a.body;
        EXPECT_TRUE(body(a)["error"].is_string()) << a.body;
        EXPECT_TRUE(test::ShowsNoInternals(a.body));
    }
}

// --- admin ---------------------------------------------------------------------------------------

TEST_F(HttpRouting, AdminTokenGuardsAdminEndpointsOnly) {
    admin_token = "s3cret";
    rebuild_handler();
    auto none = command("PUT", "/v1/products/SKU-1", kProduct);
    EXPECT_EQ(none.status, 401u);
    EXPECT_EQ(body(none)["error"], "unauthorized");
    EXPECT_EQ(
        command("PUT", "/v1/products/SKU-1", kProduct, kKey, "application/json", "Bearer wrong")
            .status,
        401u);
    EXPECT_EQ(
        command("PUT", "/v1/products/SKU-1", kProduct, kKey, "application/json", "Basic s3cret")
            .status,
        401u);
    EXPECT_EQ(
        command("PUT", "/v1/products/SKU-1", kProduct, kKey, "application/json", "Bearer s3cret2")
            .status,
        401u);
    EXPECT_EQ(
        command("PUT", "/v1/products/SKU-1", kProduct, kKey, "application/json", "bearer s3cret")
            .status,
        202u);
    EXPECT_EQ(get("/v1/admin/status").status, 401u);
    EXPECT_EQ(get("/v1/admin/requests/1").status, 401u);
    EXPECT_EQ(
        command("POST", "/v1/admin/projections/rebuild", "", std::nullopt, std::nullopt).status,
        401u);
    EXPECT_EQ(get("/v1/admin/dead-letters").status, 401u);
    EXPECT_EQ(
        command("POST", "/v1/admin/dead-letters/retry", "", std::nullopt, std::nullopt).status,
        401u);
    EXPECT_EQ(
        command("POST", "/v1/admin/dead-letters/1/retry", "", std::nullopt, std::nullopt).status,
        401u);
    // Everything else is open.
    EXPECT_EQ(get("/v1/products/SKU-1").status, 404u);
    EXPECT_EQ(command("POST", "/v1/orders", kPlace, kKey2).status, 202u);
    HttpRequest status;
    status.method = "GET";
    status.target = "/v1/admin/status";
    status.authorization = "Bearer s3cret";
    auto ok = call(status);
    EXPECT_EQ(ok.status, 200u);
    EXPECT_EQ(body(ok)["version"], "test");
}

TEST_F(HttpRouting, Rebuild) {
    // No projector anywhere: the request is recorded and stays queued; asked not to wait, the
    // answer is 202 and where to follow it.
    rebuild = nullptr;
    rebuild_handler();
    auto queued =
        command("POST", "/v1/admin/projections/rebuild?wait=0", "", std::nullopt, std::nullopt);
    EXPECT_EQ(queued.status, 202u) << queued.body;
    EXPECT_EQ(body(queued)["state"], "queued");
    EXPECT_EQ(body(queued)["kind"], "rebuild");
    EXPECT_EQ(header(queued, "Location"), "/v1/admin/requests/1");
    auto again =
        command("POST", "/v1/admin/projections/rebuild?wait=0", "", std::nullopt, std::nullopt);
    EXPECT_EQ(body(again)["id"], 1) << "one rebuild at a time: the queued one answers";
    EXPECT_EQ(body(get("/v1/admin/requests/1"))["state"], "queued");
    EXPECT_EQ(get("/v1/admin/requests/2").status, 404u);
    EXPECT_EQ(get("/v1/admin/requests/abc").status, 404u);
    for (const char* bad : {"-1", "301", "x"}) {
        auto a = command("POST", std::string("/v1/admin/projections/rebuild?wait=") + bad, "",
                         std::nullopt, std::nullopt);
        EXPECT_EQ(a.status, 400u) << bad;
        EXPECT_EQ(body(a)["details"][0]["field"], "wait") << bad;
    }

    // A projector takes the queued one, and the next.
    rebuild = [] { return Expected<RebuildReport, StoreError>(RebuildReport{7, 3}); };
    rebuild_handler();
    auto ok = command("POST", "/v1/admin/projections/rebuild", "", std::nullopt, std::nullopt);
    EXPECT_EQ(ok.status, 200u) << ok.body;
    EXPECT_EQ(body(ok)["eventsReplayed"], 7);
    const json first = body(get("/v1/admin/requests/1"));
    EXPECT_EQ(first["state"], "done") << first;
    EXPECT_EQ(first["owner"], "test-process");
    EXPECT_EQ(first["result"]["eventsReplayed"], 7);
    rebuild = [] {
        return Expected<RebuildReport, StoreError>(
            unexpected(StoreError{StoreError::Kind::Unavailable, "x"}));
    };
    rebuild_handler();
    // Issue 12: every 503 says when to come back, the admin ones too (an admin request that
    // failed on a store, answered by whichever process asked).
    auto failed = command("POST", "/v1/admin/projections/rebuild", "", std::nullopt, std::nullopt);
    EXPECT_EQ(failed.status, 503u);
    EXPECT_EQ(body(failed)["error"], "unavailable");
    EXPECT_EQ(header(failed, "Retry-After"), "1");
}

TEST_F(HttpRouting, DeadLettersAreListedWithEveryField) {
    reads.dead_letters = {dead_letter(4, "order/" + std::string(kOrderId), 2, "{\"bad\":\xff}"),
                          dead_letter(9, "", 0, "garbage")};
    auto list = get("/v1/admin/dead-letters");
    ASSERT_EQ(list.status, 200u) << list.body;
    EXPECT_EQ(reads.last_limit, 100u);
    const json letters = body(list)["deadLetters"];
    ASSERT_EQ(letters.size(), 2u);
    EXPECT_EQ(letters[0], (json{{"id", 4},
                                {"partition", "orders-0"},
                                {"offset", 40},
                                {"stream", "order/" + std::string(kOrderId)},
                                {"version", 2},
                                {"eventType", "OrderPaid"},
                                {"payload", "{\"bad\":\xEF\xBF\xBD}"},  // not UTF-8: U+FFFD
                                {"reason", "projection: no order row"},
                                {"createdAt", "2026-01-01T00:00:04.000Z"}}));
    EXPECT_EQ(letters[1]["stream"], "");
    EXPECT_EQ(letters[1]["version"], 0);

    auto one = get("/v1/admin/dead-letters?limit=1");
    ASSERT_EQ(one.status, 200u);
    EXPECT_EQ(reads.last_limit, 1u);
    EXPECT_EQ(body(one)["deadLetters"].size(), 1u);
    EXPECT_EQ(get("/v1/admin/dead-letters?limit=1000").status, 200u);
    for (const char* bad : {"0", "1001", "abc", "", "-1", "1.5", "99999999999999999999999"}) {
        auto a = get(std::string("/v1/admin/dead-letters?limit=") + bad);
        EXPECT_EQ(a.status, 400u) << bad;
        EXPECT_EQ(body(a)["details"][0]["field"], "limit") << bad;
    }
}

TEST_F(HttpRouting, ADiscardNeedsAReasonAndEveryFinishedRequestIsAudited) {
    auto post = [&](const std::string& target, const std::string& body,
                    std::optional<std::string> type = "application/json") {
        return command("POST", target, body, std::nullopt, std::move(type));
    };
    for (const char* bad : {"{}", R"({"reason":""})", R"({"reason":null})", R"({"why":"x"})"}) {
        auto a = post("/v1/admin/dead-letters/4/discard", bad);
        EXPECT_EQ(a.status, 400u) << bad;
        bool names_reason = false;
        const json b = body(a);  // kept: the loop reads into it
        for (const auto& d : b["details"]) names_reason = names_reason || d["field"] == "reason";
        EXPECT_TRUE(names_reason) << a.body;
    }
    EXPECT_EQ(post("/v1/admin/dead-letters/4/discard", "[]").status, 400u);
    EXPECT_EQ(post("/v1/admin/dead-letters/4/discard", R"({"reason":"x"})", "text/plain").status,
              415u);
    EXPECT_EQ(post("/v1/admin/dead-letters/abc/discard", R"({"reason":"x"})").status, 404u);
    // The fake store knows no dead letter: the request is carried out and answers 404.
    auto missing = post("/v1/admin/dead-letters/4/discard", R"({"reason":"not ours"})");
    EXPECT_EQ(missing.status, 404u) << missing.body;
    EXPECT_EQ(header(get("/v1/admin/dead-letters/4/discard"), "Allow"), "POST");
    auto verified = post("/v1/admin/verify", "");
    ASSERT_EQ(verified.status, 200u) << verified.body;
    EXPECT_EQ(body(verified)["clean"], true);

    auto audit = get("/v1/admin/audit?limit=2");
    ASSERT_EQ(audit.status, 200u) << audit.body;
    const json entries = body(audit)["entries"];
    ASSERT_EQ(entries.size(), 2u) << audit.body;
    EXPECT_EQ(entries[0]["action"], "verify");
    EXPECT_EQ(entries[0]["outcome"], "done");
    EXPECT_EQ(entries[1]["action"], "discard_dead_letter");
    EXPECT_EQ(entries[1]["outcome"], "failed");
    EXPECT_EQ(entries[1]["reason"], "not ours");
    EXPECT_EQ(entries[1]["target"], "dead-letter/4");
    EXPECT_EQ(entries[1]["error"], "no such dead letter");
    EXPECT_EQ(get("/v1/admin/audit?limit=0").status, 400u);
    EXPECT_EQ(get("/v1/admin/audit?limit=x").status, 400u);
}

TEST_F(HttpRouting, DeadLetterSearchParametersAreChecked) {
    EXPECT_EQ(get("/v1/admin/dead-letters?type=OrderPaid&reason=x&since=2026-01-01T00:00:00Z"
                  "&until=2026-01-02T00:00:00.000Z")
                  .status,
              200u);
    for (const char* bad : {"?since=today", "?until=2026-01-01", "?type=", "?reason=%01",
                            "?since=2026-01-01T00:00:00%2B01:00"}) {
        auto a = get(std::string("/v1/admin/dead-letters") + bad);
        EXPECT_EQ(a.status, 400u) << bad;
        EXPECT_EQ(body(a)["error"], "validation_failed") << bad;
    }
}

TEST_F(HttpRouting, DeadLettersAreRetriedOneOrAll) {
    reads.dead_letters = {dead_letter(4, "order/a", 2, "{}"), dead_letter(5, "", 0, "x"),
                          dead_letter(6, "order/a", 3, "{}")};
    auto post = [&](const std::string& target) {
        return command("POST", target, "", std::nullopt, std::nullopt);
    };
    auto missing = post("/v1/admin/dead-letters/7/retry");
    EXPECT_EQ(missing.status, 404u);
    EXPECT_EQ(body(missing)["error"], "not_found");
    for (const char* bad : {"abc", "0", "-4", "4x", "99999999999999999999"}) {
        EXPECT_EQ(post(std::string("/v1/admin/dead-letters/") + bad + "/retry").status, 404u)
            << bad;
    }
    auto one = post("/v1/admin/dead-letters/4/retry");
    ASSERT_EQ(one.status, 200u) << one.body;
    EXPECT_EQ(
        body(one),
        (json{{"retried", 1}, {"applied", 1}, {"remaining", 0}, {"advanced", json::array()}}));
    EXPECT_EQ(post("/v1/admin/dead-letters/4/retry").status, 404u) << "gone once applied";
    auto all = post("/v1/admin/dead-letters/retry");
    ASSERT_EQ(all.status, 200u) << all.body;
    EXPECT_EQ(
        body(all),
        (json{{"retried", 2}, {"applied", 1}, {"remaining", 1}, {"advanced", json::array()}}));

    EXPECT_EQ(get("/v1/admin/dead-letters/retry").status, 405u);
    EXPECT_EQ(header(get("/v1/admin/dead-letters/5/retry"), "Allow"), "POST");
    EXPECT_EQ(header(post("/v1/admin/dead-letters"), "Allow"), "GET");
    EXPECT_EQ(get("/v1/admin/dead-letters/5").status, 404u);

    reads.fail = true;
    for (const auto& a : {get("/v1/admin/dead-letters"), post("/v1/admin/dead-letters/retry")}) {
        EXPECT_EQ(a.status, 503u);
        EXPECT_EQ(a.body.find("secret"), std::string::npos) << a.body;
    }
}

// --- queries -------------------------------------------------------------------------------------

TEST_F(HttpRouting, GetOrderAndProduct) {
    reads.orders[kOrderId] = order_of(kOrderId, kUser, "2026-01-01T00:00:00.000Z");
    reads.products["SKU-1"] = ProductView{"SKU-1", "Tea", "EUR", 450, std::nullopt, 1};
    auto o = get(std::string("/v1/orders/") + kOrderId);
    ASSERT_EQ(o.status, 200u);
    EXPECT_EQ(body(o)["orderId"], kOrderId);
    EXPECT_EQ(body(o)["items"][0]["lineTotalMinor"], 100);
    EXPECT_EQ(get("/v1/orders/0190F0A4-6B3C-7D2E-8F10-112233445566").status, 200u);
    EXPECT_EQ(get("/v1/orders/0190f0a4-6b3c-7d2e-8f10-000000000000").status, 404u);
    EXPECT_EQ(get("/v1/orders/not-a-uuid").status, 404u);

    auto p = get("/v1/products/SKU-1");
    ASSERT_EQ(p.status, 200u);
    EXPECT_TRUE(body(p)["stock"].is_null());
    EXPECT_EQ(get("/v1/products/SKU-2").status, 404u);
    EXPECT_EQ(get("/v1/products/bad%20sku").status, 404u);

    reads.fail = true;
    auto down = get(std::string("/v1/orders/") + kOrderId);
    EXPECT_EQ(down.status, 503u);
    EXPECT_EQ(down.body.find("secret"), std::string::npos);
}

TEST_F(HttpRouting, UserOrdersPaging) {
    reads.orders["0190f0a4-6b3c-7d2e-8f10-000000000001"] =
        order_of("0190f0a4-6b3c-7d2e-8f10-000000000001", kUser, "2026-01-01T00:00:00.001Z");
    reads.orders["0190f0a4-6b3c-7d2e-8f10-000000000002"] =
        order_of("0190f0a4-6b3c-7d2e-8f10-000000000002", kUser, "2026-01-01T00:00:00.002Z");
    const std::string base = std::string("/v1/users/") + kUser + "/orders";

    auto all = get(base);
    ASSERT_EQ(all.status, 200u);
    EXPECT_EQ(reads.last_limit, 20u);
    EXPECT_EQ(body(all)["orders"].size(), 2u);
    EXPECT_TRUE(body(all)["nextCursor"].is_null());

    auto first = get(base + "?limit=1");
    ASSERT_EQ(first.status, 200u);
    const std::string cursor = body(first)["nextCursor"].get<std::string>();
    auto second = get(base + "?limit=1&cursor=" + cursor);
    ASSERT_EQ(second.status, 200u);
    ASSERT_TRUE(reads.last_after.has_value());
    EXPECT_EQ(reads.last_after->order_id, "0190f0a4-6b3c-7d2e-8f10-000000000001");
    EXPECT_EQ(get(base + "?cursor=").status, 200u);
    EXPECT_EQ(get(base + "?limit=100").status, 200u);

    for (std::string bad :
         {"?limit=0", "?limit=101", "?limit=abc", "?limit=", "?limit=-1", "?limit=1.5",
          "?cursor=%%%", "?cursor=notacursor", "?limit=0&cursor=bad"}) {
        auto a = get(base + bad);
        EXPECT_EQ(a.status, 400u) << bad;
        EXPECT_EQ(body(a)["error"], "validation_failed") << bad;
    }
    EXPECT_EQ(body(get(base + "?limit=0&cursor=bad"))["details"].size(), 2u);
    EXPECT_EQ(get("/v1/users/not-a-uuid/orders").status, 404u);
    auto nobody = get("/v1/users/00000000-0000-4000-8000-000000000000/orders");
    EXPECT_EQ(nobody.status, 200u);
    EXPECT_TRUE(body(nobody)["orders"].empty());
}

TEST_F(HttpRouting, ConsistencyHeaders) {
    reads.orders[kOrderId] = order_of(kOrderId, kUser, "2026-01-01T00:00:00.000Z");
    const std::string target = std::string("/v1/orders/") + kOrderId;
    const StreamKey stream{StreamType::Order, kOrderId};
    const std::string token = encode_consistency_token({{stream, 2}});

    auto bad_token = get(target, std::string("garbage"));
    EXPECT_EQ(bad_token.status, 400u);
    EXPECT_EQ(body(bad_token)["details"][0]["field"], "X-Consistency-Token");
    for (std::string bad : {"-1", "abc", "1.5", "", "+5"}) {
        EXPECT_EQ(get(target, std::nullopt, bad).status, 400u) << bad;
    }
    EXPECT_EQ(get(target, std::nullopt, std::string("99999999999999999999999")).status, 200u);

    // Not reached: a short wait times out with 503 and Retry-After.
    auto timeout = get(target, token, std::string("50"));
    EXPECT_EQ(timeout.status, 503u);
    EXPECT_EQ(body(timeout)["error"], "consistency_timeout");
    EXPECT_EQ(header(timeout, "Retry-After"), "1");

    // Reached already: answers at once.
    reads.versions[stream] = 2;
    EXPECT_EQ(get(target, token).status, 200u);
    // Several tokens merge; one of them not reached yet is waited for, then the projection moves
    // on.
    const std::string later = encode_consistency_token({{stream, 3}});
    auto promise = std::make_shared<std::promise<HttpAnswer>>();
    auto future = promise->get_future();
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    r.consistency_token = token + ", " + later;
    r.consistency_wait_ms = "5000";
    handler->handle(r, [promise](HttpAnswer a) { promise->set_value(std::move(a)); });
    EXPECT_EQ(future.wait_for(100ms), std::future_status::timeout);
    {
        std::lock_guard lock(reads.mu_);
        reads.versions[stream] = 3;
    }
    const std::vector<std::pair<StreamKey, std::int64_t>> advanced{{stream, 3}};
    gate.notify(advanced);
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(future.get().status, 200u);
}

// --- operations ----------------------------------------------------------------------------------

TEST_F(HttpRouting, ReadinessMetricsAndOpenApi) {
    readiness = [] {
        return std::vector<ComponentHealth>{{"write_store", true, "ok", {"api"}},
                                            {"read_store", false, "down", {"api"}}};
    };
    rebuild_handler();
    auto not_ready = get("/readyz");
    EXPECT_EQ(not_ready.status, 503u);
    EXPECT_EQ(body(not_ready)["status"], "not_ready");
    EXPECT_EQ(header(not_ready, "Retry-After"), "1") << "every 503 carries Retry-After";
    readiness = [] { return std::vector<ComponentHealth>{{"write_store", true, "ok", {"api"}}}; };
    rebuild_handler();
    EXPECT_EQ(get("/readyz").status, 200u);

    (void)get("/nope");
    auto m = get("/metrics");
    EXPECT_EQ(m.status, 200u);
    EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(m.body,
                ::testing::HasSubstr(
                    R"(ordinal_http_requests_total{method="GET",route="/readyz",status="200"} 1)"));
    EXPECT_THAT(m.body, ::testing::HasSubstr(R"(route="unmatched",status="404")"));
    EXPECT_THAT(m.body, ::testing::HasSubstr("ordinal_http_request_duration_seconds_bucket"));

    auto doc = get("/openapi.json");
    EXPECT_EQ(doc.status, 200u);
    EXPECT_EQ(body(doc)["openapi"], "3.0.3");
    rebuild_handler("");
    EXPECT_EQ(get("/openapi.json").status, 404u);
}

TEST_F(HttpRouting, HostileMethodsStayOutOfMetricLabels) {
    HttpRequest r;
    r.method = "BREW";
    r.target = "/healthz";
    EXPECT_EQ(call(r).status, 405u);
    EXPECT_THAT(metrics.render_prometheus(), ::testing::HasSubstr(R"(method="other")"));
}

}  // namespace
}  // namespace ordinal
