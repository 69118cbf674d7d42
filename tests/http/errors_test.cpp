// Every error code and validation rule of docs/design.md, and hostile input that must not hurt.
#include <cstdint>
#include <limits>
#include <set>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

const std::string kEmoji = "\xF0\x9F\x98\x80";  // U+1F600, 4 bytes, 1 code point

std::set<std::string> allow_methods(const HttpResponse& r) {
    std::set<std::string> out;
    std::string v = r.header("Allow").value_or("");
    std::string cur;
    for (char c : v + ",") {
        if (c == ',') {
            const auto b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
            if (b != std::string::npos) out.insert(upper(cur.substr(b, e - b + 1)));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    return out;
}

class Errors : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        sku_ = unique_sku();
        api().create_product(sku_, 100, 100);
        user_ = random_uuid();
    }
    HttpResponse post_order_raw(const std::string& body) {
        return api().command("POST", "/v1/orders", body, random_uuid());
    }
    HttpResponse post_order(const json& body) { return api().place_order(body, random_uuid()); }
    HttpResponse put_raw(const std::string& sku, const json& body) {
        return api().put_product(sku, body, random_uuid());
    }
    json good_order() { return order_body(user_, "EUR", {{sku_, 1}}); }
    json good_product() { return product_body("Name", "EUR", 100, 5); }

    std::string sku_;
    std::string user_;
};

// ---- 400 validation_failed ----

TEST_F(Errors, MalformedJsonIs400) {
    for (const std::string bad :
         {"", "{", "{\"userId\": }", "[1, 2", "nul", "{\"userId\": \"x\",}", "{'a': 1}",
          "{\"currency\": \"EUR\"} trailing", "{\"a\": 01}", "\"unterminated"}) {
        EXPECT_TRUE(IsValidationError(post_order_raw(bad))) << "body: " << bad;
    }
}

TEST_F(Errors, BodyThatIsNotAnObjectIs400) {
    for (const std::string bad : {"[]", "1", "\"text\"", "null", "true"}) {
        EXPECT_TRUE(IsValidationError(post_order_raw(bad))) << "body: " << bad;
    }
}

TEST_F(Errors, InvalidUtf8Is400) {
    const std::string bad_name =
        "{\"name\": \"caf\xC3\", \"currency\": \"EUR\", \"priceMinor\": 1, \"stock\": 1}";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + unique_sku(), bad_name, random_uuid())));
    const std::string overlong =
        "{\"name\": \"\xC0\xAF\", \"currency\": \"EUR\", \"priceMinor\": 1, \"stock\": 1}";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + unique_sku(), overlong, random_uuid())));
    const std::string lone_surrogate =
        R"({"name": "\ud800", "currency": "EUR", "priceMinor": 1, "stock": 1})";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + unique_sku(), lone_surrogate, random_uuid())));
}

TEST_F(Errors, OrderWrongTypesAre400) {
    auto with = [&](const char* field, json value) {
        json b = good_order();
        b[field] = std::move(value);
        return b;
    };
    EXPECT_TRUE(IsValidationError(post_order(with("userId", 123)), "userId"));
    EXPECT_TRUE(IsValidationError(post_order(with("userId", nullptr)), "userId"));
    EXPECT_TRUE(IsValidationError(post_order(with("currency", 978)), "currency"));
    EXPECT_TRUE(IsValidationError(post_order(with("items", json::object())), "items"));
    EXPECT_TRUE(IsValidationError(post_order(with("items", "abc")), "items"));
    EXPECT_TRUE(IsValidationError(post_order(with("items", json::array({"sku"}))), "items"));
    auto item = [&](json sku, json qty) {
        json b = good_order();
        b["items"] = json::array({json{{"sku", std::move(sku)}, {"qty", std::move(qty)}}});
        return b;
    };
    EXPECT_TRUE(IsValidationError(post_order(item(7, 1)), "sku"));
    EXPECT_TRUE(IsValidationError(post_order(item(sku_, "1")), "qty"));
    EXPECT_TRUE(IsValidationError(post_order(item(sku_, 1.5)), "qty"));
    EXPECT_TRUE(IsValidationError(post_order(item(sku_, true)), "qty"));
    EXPECT_TRUE(IsValidationError(post_order(item(sku_, nullptr)), "qty"));
}

TEST_F(Errors, OrderUnknownFieldsAre400) {
    json b = good_order();
    b["coupon"] = "X";
    EXPECT_TRUE(IsValidationError(post_order(b), "coupon"));
    json c = good_order();
    c["items"][0]["price"] = 1;
    EXPECT_TRUE(IsValidationError(post_order(c), "price"));
}

TEST_F(Errors, OrderMissingFieldsAre400) {
    for (const char* f : {"userId", "currency", "items"}) {
        json b = good_order();
        b.erase(f);
        EXPECT_TRUE(IsValidationError(post_order(b), f)) << f;
    }
    for (const char* f : {"sku", "qty"}) {
        json b = good_order();
        b["items"][0].erase(f);
        EXPECT_TRUE(IsValidationError(post_order(b), f)) << f;
    }
}

TEST_F(Errors, ItemsCountBounds) {
    json b = good_order();
    b["items"] = json::array();
    EXPECT_TRUE(IsValidationError(post_order(b), "items"));
    Items many;
    for (int i = 0; i < 101; ++i) many.emplace_back("NOPE-" + std::to_string(i), 1);
    EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", many)), "items"));
    // 100 items pass validation (and fail on the domain rule instead).
    many.pop_back();
    EXPECT_TRUE(IsError(post_order(order_body(user_, "EUR", many)), 422, "unknown_sku"));
}

TEST_F(Errors, QtyBounds) {
    for (std::int64_t q : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{10001},
                           std::numeric_limits<std::int64_t>::max()}) {
        EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{sku_, q}})), "qty"))
            << q;
    }
    EXPECT_TRUE(IsValidationError(post_order_raw(
        "{\"userId\": \"" + user_ + "\", \"currency\": \"EUR\", \"items\": [{\"sku\": \"" + sku_ +
        "\", \"qty\": 18446744073709551616}]}")));
    EXPECT_TRUE(IsAccepted(post_order(order_body(user_, "EUR", {{sku_, 1}}))));
}

TEST_F(Errors, DuplicateSkusInOneOrderAre400) {
    EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{sku_, 1}, {sku_, 2}}))));
}

TEST_F(Errors, UserIdMustBeAUuid) {
    for (const std::string bad :
         {"", "abc", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
          "123e4567-e89b-12d3-a456-4266141740000", "zzze4567-e89b-12d3-a456-426614174000"}) {
        EXPECT_TRUE(IsValidationError(post_order(order_body(bad, "EUR", {{sku_, 1}})), "userId"))
            << bad;
    }
}

TEST_F(Errors, CurrencyMustBeThreeUpperCaseLetters) {
    for (const std::string bad : {"eur", "Eur", "EURO", "EU", "", "E1R", "E R"}) {
        EXPECT_TRUE(IsValidationError(post_order(order_body(user_, bad, {{sku_, 1}})), "currency"))
            << bad;
        EXPECT_TRUE(
            IsValidationError(put_raw(unique_sku(), product_body("n", bad, 1, 1)), "currency"))
            << bad;
    }
}

TEST_F(Errors, SkuRulesInOrders) {
    for (const std::string& bad : std::vector<std::string>{"", std::string(65, 'a'), "a b", "a/b",
                                                           "caf\xC3\xA9", "a+b", "a*"}) {
        EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{bad, 1}})), "sku"))
            << bad;
    }
    // 64 characters of the allowed set pass validation and fail as unknown.
    EXPECT_TRUE(IsError(post_order(order_body(user_, "EUR", {{std::string(62, 'a') + "._", 1}})),
                        422, "unknown_sku"));
}

TEST_F(Errors, SkuRulesInPath) {
    EXPECT_TRUE(IsAccepted(put_raw(std::string(64, 'Z'), good_product())));
    EXPECT_TRUE(IsAccepted(put_raw("a.B-9_z", good_product())));
    EXPECT_TRUE(IsValidationError(put_raw(std::string(65, 'Z'), good_product()), "sku"));
    EXPECT_TRUE(IsValidationError(put_raw("bad!sku", good_product()), "sku"));
    EXPECT_TRUE(IsValidationError(put_raw("bad sku", good_product()), "sku"));
}

TEST_F(Errors, NameLengthCountsCodePoints) {
    EXPECT_TRUE(
        IsAccepted(put_raw(unique_sku(), product_body(std::string(200, 'x'), "EUR", 1, 1))));
    EXPECT_TRUE(IsValidationError(
        put_raw(unique_sku(), product_body(std::string(201, 'x'), "EUR", 1, 1)), "name"));
    const auto sku = unique_sku();
    const auto ok =
        api().put_product(sku, product_body(repeat(kEmoji, 200), "EUR", 1, 1), random_uuid());
    ASSERT_TRUE(IsAccepted(ok)) << "200 emoji are 200 code points (800 bytes)";
    EXPECT_EQ(api().must_read("/v1/products/" + sku, to_ack(ok).token)["name"],
              repeat(kEmoji, 200));
    EXPECT_TRUE(IsValidationError(
        put_raw(unique_sku(), product_body(repeat(kEmoji, 201), "EUR", 1, 1)), "name"));
    EXPECT_TRUE(
        IsAccepted(put_raw(unique_sku(), product_body(repeat("\xC3\xA9", 200), "EUR", 1, 1))));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), product_body("", "EUR", 1, 1)), "name"));
}

// The same answer on every profile: PostgreSQL cannot keep a NUL in text, so no profile keeps it;
// a control character is a 400 naming the field, and nothing is stored.
TEST_F(Errors, ControlCharactersInTextAre400NamingTheField) {
    const auto sku = unique_sku();
    const std::string nul_name =
        R"({"name":"Mu\u0000g","currency":"EUR","priceMinor":1,"stock":1})";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + sku, nul_name, random_uuid()), "name"));
    EXPECT_EQ(api().get("/v1/products/" + sku).status, 404);
    EXPECT_TRUE(IsValidationError(put_raw(sku, product_body("bell\x07", "EUR", 1, 1)), "name"));
    EXPECT_TRUE(IsValidationError(put_raw(sku, product_body("esc\x1B[0m", "EUR", 1, 1)), "name"));

    const auto o = api().create_order(user_, {{sku_, 1}});
    EXPECT_TRUE(IsValidationError(
        api().command("POST", "/v1/orders/" + o.order_id + "/pay",
                      R"({"paymentRef":"p\u0000","amountMinor":100})", random_uuid()),
        "paymentRef"));
    EXPECT_TRUE(IsValidationError(api().command("POST", "/v1/orders/" + o.order_id + "/cancel",
                                                R"({"reason":"\u001f"})", random_uuid()),
                                  "reason"));
    // Line breaks and tabs are text, and come back exactly.
    const auto named =
        api().put_product(sku, product_body("Mug\tlarge", "EUR", 1, 1), random_uuid());
    ASSERT_TRUE(IsAccepted(named)) << named;
    EXPECT_EQ(api().must_read("/v1/products/" + sku, to_ack(named).token)["name"], "Mug\tlarge");
    const auto cancelled =
        api().must_command("cancel", o.order_id, json{{"reason", "line one\nline two"}});
    EXPECT_EQ(cancelled.version, 2);
}

TEST_F(Errors, ProductFieldRules) {
    auto with = [&](const char* field, json value) {
        json b = good_product();
        b[field] = std::move(value);
        return b;
    };
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("priceMinor", -1)), "priceMinor"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("priceMinor", 1.5)), "priceMinor"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("priceMinor", "100")), "priceMinor"));
    EXPECT_TRUE(
        IsValidationError(put_raw(unique_sku(), with("priceMinor", nullptr)), "priceMinor"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("stock", -1)), "stock"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("stock", 2.5)), "stock"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("stock", "5")), "stock"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("name", 5)), "name"));
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), with("extra", 1)), "extra"));
    for (const char* f : {"name", "currency", "priceMinor"}) {
        json b = good_product();
        b.erase(f);
        EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), b), f)) << f;
    }
    const std::string too_big =
        R"({"name": "n", "currency": "EUR", "priceMinor": 9223372036854775808, "stock": 1})";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + unique_sku(), too_big, random_uuid())));
    const std::string huge = R"({"name": "n", "currency": "EUR", "priceMinor": 1e400, "stock": 1})";
    EXPECT_TRUE(IsValidationError(
        api().command("PUT", "/v1/products/" + unique_sku(), huge, random_uuid())));
}

// The PUT body is {name, currency, priceMinor, stock}: unlike expectedVersion? it is not marked
// optional, and "unlimited" is spelled `"stock": null`.
TEST_F(Errors, ProductStockIsRequired) {
    json b = good_product();
    b.erase("stock");
    EXPECT_TRUE(IsValidationError(put_raw(unique_sku(), b), "stock"));
    b["stock"] = nullptr;
    EXPECT_TRUE(IsAccepted(put_raw(unique_sku(), b)));
}

TEST_F(Errors, TotalsMustFitInt64) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const auto max_sku = unique_sku("MAX");
    const auto half_sku = unique_sku("HALF");
    const auto half2_sku = unique_sku("HALF2");
    api().create_product(max_sku, kMax, nullptr);
    api().create_product(half_sku, std::int64_t{1} << 62, nullptr);
    api().create_product(half2_sku, std::int64_t{1} << 62, nullptr);
    EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{max_sku, 2}}))));
    EXPECT_TRUE(
        IsValidationError(post_order(order_body(user_, "EUR", {{half_sku, 2}}))));  // exactly 2^63
    EXPECT_TRUE(
        IsValidationError(post_order(order_body(user_, "EUR", {{half_sku, 1}, {half2_sku, 1}}))));
    EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{max_sku, 1}, {sku_, 1}}))));
    EXPECT_TRUE(IsValidationError(post_order(order_body(user_, "EUR", {{max_sku, 10000}}))));
    // Nothing was reserved by the rejected ones, and a fitting total is fine.
    EXPECT_TRUE(IsAccepted(post_order(order_body(user_, "EUR", {{half_sku, 1}}))));
}

TEST_F(Errors, PayShipCancelFieldRules) {
    const auto o = api().create_order(user_, {{sku_, 1}});
    const auto& id = o.order_id;
    auto pay = [&](json b) { return api().pay(id, b, random_uuid()); };
    EXPECT_TRUE(IsValidationError(pay(json{{"amountMinor", 100}}), "paymentRef"));
    EXPECT_TRUE(IsValidationError(pay(json{{"paymentRef", "p"}}), "amountMinor"));
    EXPECT_TRUE(
        IsValidationError(pay(json{{"paymentRef", "p"}, {"amountMinor", "100"}}), "amountMinor"));
    EXPECT_TRUE(
        IsValidationError(pay(json{{"paymentRef", "p"}, {"amountMinor", 1.5}}), "amountMinor"));
    EXPECT_TRUE(
        IsValidationError(pay(json{{"paymentRef", 7}, {"amountMinor", 100}}), "paymentRef"));
    EXPECT_TRUE(IsValidationError(
        pay(json{{"paymentRef", "p"}, {"amountMinor", 100}, {"expectedVersion", "1"}}),
        "expectedVersion"));
    EXPECT_TRUE(
        IsValidationError(pay(json{{"paymentRef", "p"}, {"amountMinor", 100}, {"tip", 5}}), "tip"));
    const auto negative = pay(json{{"paymentRef", "p"}, {"amountMinor", -100}});
    EXPECT_TRUE(negative.status == 400 || negative.status == 422) << negative;

    EXPECT_TRUE(IsValidationError(api().ship(id, json{{"expectedVersion", "x"}}, random_uuid()),
                                  "expectedVersion"));
    EXPECT_TRUE(
        IsValidationError(api().ship(id, json{{"carrier", "ups"}}, random_uuid()), "carrier"));
    EXPECT_TRUE(IsValidationError(
        api().command("POST", "/v1/orders/" + id + "/ship", "[]", random_uuid())));

    EXPECT_TRUE(IsValidationError(api().cancel(id, json::object(), random_uuid()), "reason"));
    EXPECT_TRUE(IsValidationError(api().cancel(id, json{{"reason", 3}}, random_uuid()), "reason"));
    EXPECT_TRUE(IsValidationError(
        api().cancel(id, json{{"reason", "r"}, {"refund", true}}, random_uuid()), "refund"));

    // None of that touched the order.
    const auto paid = api().must_command(
        "pay", id, json{{"expectedVersion", 1}, {"paymentRef", "p"}, {"amountMinor", 100}});
    EXPECT_EQ(paid.version, 2);
}

// ---- 422 domain rules ----

TEST_F(Errors, UnknownSkuIs422) {
    const auto missing = unique_sku("MISSING");
    const auto r = post_order(order_body(user_, "EUR", {{sku_, 1}, {missing, 1}}));
    ASSERT_TRUE(IsError(r, 422, "unknown_sku"));
    const auto b = r.json_body();
    if (b.contains("sku")) {
        EXPECT_EQ(b["sku"], missing) << r;
    }
}

TEST_F(Errors, InsufficientStockNamesTheSku) {
    const auto r = post_order(order_body(user_, "EUR", {{sku_, 101}}));
    ASSERT_TRUE(IsError(r, 422, "insufficient_stock"));
    EXPECT_EQ(r.json_body().value("sku", ""), sku_) << r;
}

TEST_F(Errors, CurrencyMismatchIs422) {
    EXPECT_TRUE(
        IsError(post_order(order_body(user_, "USD", {{sku_, 1}})), 422, "currency_mismatch"));
    const auto usd = unique_sku("USD");
    api().create_product(usd, 100, 10, "USD");
    EXPECT_TRUE(IsError(post_order(order_body(user_, "EUR", {{sku_, 1}, {usd, 1}})), 422,
                        "currency_mismatch"));
    EXPECT_TRUE(IsError(post_order(order_body(user_, "USD", {{sku_, 1}, {usd, 1}})), 422,
                        "currency_mismatch"));
    EXPECT_TRUE(IsAccepted(post_order(order_body(user_, "USD", {{usd, 1}}))));
}

TEST_F(Errors, AmountMismatchIs422) {
    const auto o = api().create_order(user_, {{sku_, 3}});
    EXPECT_TRUE(IsError(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 299}}, random_uuid()), 422,
        "amount_mismatch"));
    EXPECT_TRUE(IsError(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 301}}, random_uuid()), 422,
        "amount_mismatch"));
    EXPECT_TRUE(IsAccepted(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 300}}, random_uuid())));
}

// ---- 404 ----

TEST_F(Errors, UnknownThingsAre404) {
    EXPECT_TRUE(IsError(api().get("/v1/orders/" + random_uuid()), 404, "not_found"));
    EXPECT_TRUE(IsError(api().get("/v1/products/" + unique_sku("NONE")), 404, "not_found"));
    const json pay = {{"paymentRef", "p"}, {"amountMinor", 1}};
    EXPECT_TRUE(IsError(api().pay(random_uuid(), pay, random_uuid()), 404, "not_found"));
    EXPECT_TRUE(
        IsError(api().ship(random_uuid(), json::object(), random_uuid()), 404, "not_found"));
    EXPECT_TRUE(IsError(api().cancel(random_uuid(), json{{"reason", "r"}}, random_uuid()), 404,
                        "not_found"));
}

TEST_F(Errors, NonUuidIdsInPathsAre404) {
    for (const std::string bad : {"not-a-uuid", "123", "123e4567e89b12d3a456426614174000",
                                  "zzze4567-e89b-12d3-a456-426614174000"}) {
        EXPECT_TRUE(IsError(api().get("/v1/orders/" + bad), 404, "not_found")) << bad;
        EXPECT_TRUE(
            IsError(api().pay(bad, json{{"paymentRef", "p"}, {"amountMinor", 1}}, random_uuid()),
                    404, "not_found"))
            << bad;
        EXPECT_TRUE(IsError(api().ship(bad, json::object(), random_uuid()), 404, "not_found"))
            << bad;
        EXPECT_TRUE(
            IsError(api().cancel(bad, json{{"reason", "r"}}, random_uuid()), 404, "not_found"))
            << bad;
        EXPECT_TRUE(IsError(api().get("/v1/users/" + bad + "/orders"), 404, "not_found")) << bad;
    }
}

TEST_F(Errors, UnknownPathsAre404) {
    for (const std::string& path : std::vector<std::string>{
             "/", "/nope", "/v1", "/v2/orders", "/v1/order",
             "/v1/orders/" + random_uuid() + "/refund",
             "/v1/orders/" + random_uuid() + "/pay/extra", "/v1/users/" + random_uuid(),
             "/v1/admin", "/v1/admin/nope", "/v1/products"}) {
        EXPECT_TRUE(IsError(api().get(path), 404, "not_found")) << path;
    }
    EXPECT_TRUE(IsError(api().command("POST", "/v1/nope", "{}", random_uuid()), 404, "not_found"));
}

// ---- 405 ----

TEST_F(Errors, KnownPathOtherMethodIs405WithAllow) {
    const auto o = api().create_order(user_, {{sku_, 1}});
    struct Case {
        std::string method, path;
        std::vector<std::string> allow;
    };
    const std::vector<Case> cases = {
        {"GET", "/v1/orders", {"POST"}},
        {"DELETE", "/v1/orders", {"POST"}},
        {"DELETE", "/v1/orders/" + o.order_id, {"GET"}},
        {"PUT", "/v1/orders/" + o.order_id, {"GET"}},
        {"GET", "/v1/orders/" + o.order_id + "/pay", {"POST"}},
        {"GET", "/v1/orders/" + o.order_id + "/ship", {"POST"}},
        {"PUT", "/v1/orders/" + o.order_id + "/cancel", {"POST"}},
        {"POST", "/v1/products/" + sku_, {"GET", "PUT"}},
        {"DELETE", "/v1/products/" + sku_, {"GET", "PUT"}},
        {"POST", "/v1/users/" + user_ + "/orders", {"GET"}},
        {"POST", "/healthz", {"GET"}},
        {"POST", "/readyz", {"GET"}},
        {"DELETE", "/metrics", {"GET"}},
        {"POST", "/openapi.json", {"GET"}},
        {"POST", "/v1/admin/status", {"GET"}},
        {"GET", "/v1/admin/projections/rebuild", {"POST"}},
    };
    for (const auto& c : cases) {
        const auto r = api().http().request(c.method, c.path,
                                            c.method == "GET" || c.method == "DELETE" ? "" : "{}",
                                            {{"Idempotency-Key", random_uuid()}});
        EXPECT_TRUE(IsErrorStatus(r, 405)) << c.method << " " << c.path;
        const auto allow = allow_methods(r);
        for (const auto& m : c.allow)
            EXPECT_TRUE(allow.count(m))
                << c.method << " " << c.path << " Allow lacks " << m << ": " << r;
        EXPECT_FALSE(allow.count(c.method)) << c.method << " " << c.path << ": " << r;
    }
}

// ---- 413 / 415 ----

std::string padded_order(const std::string& user, const std::string& sku, std::size_t total_size) {
    const std::string head = "{\"userId\": \"" + user +
                             "\", \"currency\": \"EUR\", \"items\": [{\"sku\": \"" + sku +
                             "\", \"qty\": 1}], \"pad\": \"";
    const std::string tail = "\"}";
    return head + std::string(total_size - head.size() - tail.size(), 'x') + tail;
}

TEST_F(Errors, BodiesOver64KiBAre413) {
    const auto big = padded_order(user_, sku_, 65537);
    ASSERT_EQ(big.size(), 65537u);
    OrdinalApi fresh(port());
    EXPECT_TRUE(
        IsError(fresh.command("POST", "/v1/orders", big, random_uuid()), 413, "payload_too_large"));
    OrdinalApi fresh2(port());
    EXPECT_TRUE(IsError(fresh2.command("PUT", "/v1/products/" + unique_sku(),
                                       std::string(200000, ' ') + "{}", random_uuid()),
                        413, "payload_too_large"));
    // The server is fine afterwards.
    EXPECT_EQ(api().get("/healthz").status, 200);
}

TEST_F(Errors, ExactlySixtyFourKiBIsNotTooLarge) {
    const auto body = padded_order(user_, sku_, 65536);
    ASSERT_EQ(body.size(), 65536u);
    // Within the limit, so it is read and validated: "pad" is an unknown field.
    EXPECT_TRUE(IsValidationError(api().command("POST", "/v1/orders", body, random_uuid()), "pad"));
}

TEST_F(Errors, HugeDeclaredContentLengthIs413WithoutReadingIt) {
    HttpClient c(port(), "127.0.0.1", std::chrono::seconds(5));
    c.send_raw(
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/json\r\nIdempotency-Key: " +
        random_uuid() + "\r\nContent-Length: 104857600\r\n\r\n{\"userId\":");
    EXPECT_TRUE(IsError(c.read_response(), 413, "payload_too_large"));
}

TEST_F(Errors, ChunkedBodyOver64KiBIs413) {
    HttpClient c(port(), "127.0.0.1", std::chrono::seconds(5));
    std::string req =
        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: "
        "application/json\r\nIdempotency-Key: " +
        random_uuid() + "\r\nTransfer-Encoding: chunked\r\n\r\n";
    const auto body = padded_order(user_, sku_, 70000);
    for (std::size_t off = 0; off < body.size(); off += 8192) {
        const auto part = body.substr(off, 8192);
        char len[32];
        std::snprintf(len, sizeof len, "%zx\r\n", part.size());
        req += len + part + "\r\n";
    }
    req += "0\r\n\r\n";
    try {
        c.send_raw(req);
    } catch (const HttpError&) {
        // The server may stop reading once it knows; the answer must still be there.
    }
    EXPECT_TRUE(IsError(c.read_response(), 413, "payload_too_large"));
}

TEST_F(Errors, NonJsonContentTypeIs415) {
    const auto body = good_order().dump();
    for (const std::string type :
         {"text/plain", "application/xml", "application/x-www-form-urlencoded", "text/json-ish"}) {
        const auto r =
            api().http().request("POST", "/v1/orders", body,
                                 {{"Content-Type", type}, {"Idempotency-Key", random_uuid()}});
        EXPECT_TRUE(IsErrorStatus(r, 415)) << type;
    }
    const auto r =
        api().http().request("PUT", "/v1/products/" + unique_sku(), good_product().dump(),
                             {{"Content-Type", "text/plain"}, {"Idempotency-Key", random_uuid()}});
    EXPECT_TRUE(IsErrorStatus(r, 415));
}

TEST_F(Errors, ErrorBodiesAreJson) {
    const auto r = api().get("/v1/orders/" + random_uuid());
    ASSERT_EQ(r.status, 404);
    EXPECT_NE(r.header("Content-Type").value_or("").find("application/json"), std::string::npos)
        << r;
    const auto v = post_order_raw("{");
    ASSERT_EQ(v.status, 400);
    EXPECT_NE(v.header("Content-Type").value_or("").find("application/json"), std::string::npos)
        << v;
}

// ---- nothing the client sends can crash the process ----

TEST_F(Errors, DeeplyNestedJsonIsRejectedNotFatal) {
    const std::string arrays =
        "{\"userId\": " + std::string(30000, '[') + std::string(30000, ']') + "}";
    EXPECT_TRUE(IsValidationError(post_order_raw(arrays)));
    std::string objects = "{\"userId\": ";
    for (int i = 0; i < 8000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(8000, '}') + "}";
    EXPECT_TRUE(IsValidationError(post_order_raw(objects)));
    EXPECT_EQ(api().get("/healthz").status, 200);
}

TEST_F(Errors, GarbageOnTheWireDoesNotHurt) {
    for (const std::string& garbage :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
          std::string("POST /v1/orders HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
          std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n") + std::string(100000, 'X') +
              "\r\n\r\n"}) {
        HttpClient c(port(), "127.0.0.1", std::chrono::seconds(3));
        try {
            c.send_raw(garbage);
            const auto r = c.read_response();
            EXPECT_GE(r.status, 400) << r;
        } catch (const HttpError&) {
            // Closing the connection is an acceptable answer to garbage.
        }
    }
    // Half-sent requests, abandoned.
    for (int i = 0; i < 20; ++i) {
        HttpClient c(port(), "127.0.0.1", std::chrono::seconds(3));
        c.send_raw("POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"user");
    }
    EXPECT_EQ(api().get("/healthz").status, 200);
    EXPECT_TRUE(IsAccepted(post_order(good_order())));
}

}  // namespace
}  // namespace ordinal::test
