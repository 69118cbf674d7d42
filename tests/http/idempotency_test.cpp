// Idempotency keys: duplicates, key reuse, where the key travels, and the order of checks.
#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

class Idempotency : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        sku_ = unique_sku();
        api().create_product(sku_, 100, 50);
        user_ = random_uuid();
    }
    json body(std::int64_t qty = 1) { return order_body(user_, "EUR", {{sku_, qty}}); }
    json stock_now(const std::string& token) {
        return api().must_read("/v1/products/" + sku_, token)["stock"];
    }

    std::string sku_;
    std::string user_;
};

TEST_F(Idempotency, RepeatAnswersTheOriginalResultAsDuplicate) {
    const auto key = random_uuid();
    const auto first = api().place_order(body(2), key);
    ASSERT_TRUE(IsAccepted(first));
    const auto a = to_ack(first);
    for (int i = 0; i < 3; ++i) {
        const auto again = api().place_order(body(2), key);
        ASSERT_TRUE(IsDuplicate(again));
        const auto d = to_ack(again);
        EXPECT_EQ(d.order_id, a.order_id);
        EXPECT_EQ(d.event_id, a.event_id);
        EXPECT_EQ(d.stream_id, a.stream_id);
        EXPECT_EQ(d.version, a.version);
        EXPECT_EQ(d.token, a.token);
    }
    // One effect: 2 units reserved once, one order listed.
    const auto later = api().create_order(user_, {{sku_, 1}});
    EXPECT_EQ(stock_now(join_tokens({a.token, later.token})), 47);
    const auto list =
        api().must_read("/v1/users/" + user_ + "/orders", join_tokens({a.token, later.token}));
    EXPECT_EQ(list["orders"].size(), 2u) << list.dump();
}

TEST_F(Idempotency, RepeatAnswersTheOriginalEvenAfterTheStreamMovedOn) {
    const auto k_place = random_uuid(), k_pay = random_uuid(), k_ship = random_uuid();
    const auto placed = to_ack(api().place_order(body(1), k_place));
    ASSERT_EQ(placed.status, 202) << placed.body.dump();
    const json pay = {{"paymentRef", "ref-1"}, {"amountMinor", 100}};
    const auto paid_r = api().pay(placed.order_id, pay, k_pay);
    ASSERT_TRUE(IsAccepted(paid_r));
    const auto paid = to_ack(paid_r);
    const auto shipped_r = api().ship(placed.order_id, json::object(), k_ship);
    ASSERT_TRUE(IsAccepted(shipped_r));
    const auto shipped = to_ack(shipped_r);

    const auto d_place = api().place_order(body(1), k_place);
    ASSERT_TRUE(IsDuplicate(d_place));
    EXPECT_EQ(to_ack(d_place).event_id, placed.event_id);
    EXPECT_EQ(to_ack(d_place).version, 1);
    EXPECT_EQ(to_ack(d_place).order_id, placed.order_id);

    const auto d_pay =
        api().pay(placed.order_id, pay, k_pay);  // would be invalid_transition if re-run
    ASSERT_TRUE(IsDuplicate(d_pay));
    EXPECT_EQ(to_ack(d_pay).event_id, paid.event_id);
    EXPECT_EQ(to_ack(d_pay).version, 2);

    const auto d_ship = api().ship(placed.order_id, json::object(), k_ship);
    ASSERT_TRUE(IsDuplicate(d_ship));
    EXPECT_EQ(to_ack(d_ship).event_id, shipped.event_id);
    EXPECT_EQ(to_ack(d_ship).version, 3);
}

TEST_F(Idempotency, ProductPutRepeatAnswersOriginalVersion) {
    const auto sku = unique_sku();
    const auto k1 = random_uuid();
    const auto b1 = product_body("One", "EUR", 100, 5);
    const auto r1 = api().put_product(sku, b1, k1);
    ASSERT_TRUE(IsAccepted(r1));
    const auto r2 = api().put_product(sku, product_body("Two", "EUR", 200, 6), random_uuid());
    ASSERT_TRUE(IsAccepted(r2));
    const auto d = api().put_product(sku, b1, k1);
    ASSERT_TRUE(IsDuplicate(d));
    EXPECT_EQ(to_ack(d).version, 1);
    EXPECT_EQ(to_ack(d).event_id, to_ack(r1).event_id);
    // The duplicate did not re-apply: the product is still "Two".
    const auto view =
        api().must_read("/v1/products/" + sku, join_tokens({to_ack(r2).token, to_ack(d).token}));
    EXPECT_EQ(view["name"], "Two");
    EXPECT_EQ(view["version"], 2);
}

TEST_F(Idempotency, KeysAreCaseInsensitive) {
    const auto key = random_uuid();
    const auto first = api().place_order(body(), key);
    ASSERT_TRUE(IsAccepted(first));
    const auto again = api().place_order(body(), upper(key));
    ASSERT_TRUE(IsDuplicate(again));
    EXPECT_EQ(to_ack(again).order_id, to_ack(first).order_id);
}

TEST_F(Idempotency, UpperCaseKeyFirstThenLowerCase) {
    const auto key = upper(random_uuid());
    const auto first = api().place_order(body(), key);
    ASSERT_TRUE(IsAccepted(first));
    std::string lower = key;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(IsDuplicate(api().place_order(body(), lower)));
}

TEST_F(Idempotency, KeyInBodyOnly) {
    const auto key = random_uuid();
    json b = body();
    b["idempotencyKey"] = key;
    const auto first = api().place_order(b, "");
    ASSERT_TRUE(IsAccepted(first));
    // The same command with the key in the header instead is the same payload.
    const auto by_header = api().place_order(body(), key);
    ASSERT_TRUE(IsDuplicate(by_header));
    EXPECT_EQ(to_ack(by_header).order_id, to_ack(first).order_id);
    // And again in the body.
    const auto by_body = api().place_order(b, "");
    ASSERT_TRUE(IsDuplicate(by_body));
    EXPECT_EQ(to_ack(by_body).order_id, to_ack(first).order_id);
}

TEST_F(Idempotency, KeyInBodyForOrderCommands) {
    const auto o = api().create_order(user_, {{sku_, 1}});
    const auto key = random_uuid();
    const json pay = {{"idempotencyKey", key}, {"paymentRef", "p"}, {"amountMinor", 100}};
    const auto first = api().pay(o.order_id, pay, "");
    ASSERT_TRUE(IsAccepted(first));
    const auto again = api().pay(o.order_id, pay, "");
    ASSERT_TRUE(IsDuplicate(again));
    EXPECT_EQ(to_ack(again).event_id, to_ack(first).event_id);
    EXPECT_TRUE(IsAccepted(api().ship(o.order_id, json{{"idempotencyKey", random_uuid()}}, "")));
    EXPECT_TRUE(IsAccepted(api().put_product(unique_sku(),
                                             json{{"idempotencyKey", random_uuid()},
                                                  {"name", "n"},
                                                  {"currency", "EUR"},
                                                  {"priceMinor", 1},
                                                  {"stock", 1}},
                                             "")));
}

TEST_F(Idempotency, KeyInHeaderAndBodyEqualIsFine) {
    const auto key = random_uuid();
    json b = body();
    b["idempotencyKey"] = key;
    ASSERT_TRUE(IsAccepted(api().place_order(b, key)));
    ASSERT_TRUE(IsDuplicate(api().place_order(b, key)));
}

TEST_F(Idempotency, KeyInHeaderAndBodyEqualUpToCase) {
    const auto key = random_uuid();
    json b = body();
    b["idempotencyKey"] = upper(key);
    ASSERT_TRUE(IsAccepted(api().place_order(b, key)));
}

TEST_F(Idempotency, KeyInHeaderAndBodyDifferentIs400) {
    json b = body();
    b["idempotencyKey"] = random_uuid();
    EXPECT_TRUE(IsValidationError(api().place_order(b, random_uuid())));
}

TEST_F(Idempotency, MissingKeyIs400) {
    EXPECT_TRUE(IsValidationError(api().place_order(body(), "")));
    EXPECT_TRUE(
        IsValidationError(api().put_product(unique_sku(), product_body("n", "EUR", 1, 1), "")));
    const auto o = api().create_order(user_, {{sku_, 1}});
    EXPECT_TRUE(IsValidationError(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 100}}, "")));
    EXPECT_TRUE(IsValidationError(api().ship(o.order_id, json::object(), "")));
    EXPECT_TRUE(IsValidationError(api().cancel(o.order_id, json{{"reason", "r"}}, "")));
}

TEST_F(Idempotency, NonUuidKeyIs400) {
    for (const std::string bad :
         {"abc", "12345678-1234-1234-1234-12345678901", "12345678-1234-1234-1234-1234567890123",
          "g2345678-1234-1234-1234-123456789012", "123456781234123412341234567890ab"}) {
        EXPECT_TRUE(IsValidationError(api().place_order(body(), bad))) << bad;
        json b = body();
        b["idempotencyKey"] = bad;
        EXPECT_TRUE(IsValidationError(api().place_order(b, ""))) << bad;
    }
    json b = body();
    b["idempotencyKey"] = 12345;
    EXPECT_TRUE(IsValidationError(api().place_order(b, "")));
}

TEST_F(Idempotency, SameKeyOtherBodyIsKeyReused) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(1), key)));
    EXPECT_TRUE(IsError(api().place_order(body(2), key), 409, "idempotency_key_reused"));
    EXPECT_TRUE(IsError(api().place_order(order_body(random_uuid(), "EUR", {{sku_, 1}}), key), 409,
                        "idempotency_key_reused"));
    // Still a duplicate with the original payload afterwards.
    EXPECT_TRUE(IsDuplicate(api().place_order(body(1), key)));
}

TEST_F(Idempotency, FieldOrderAndWhitespaceDoNotMakeAnotherPayload) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(3), key)));
    const std::string reordered = "{ \"items\" : [ { \"qty\" : 3 , \"sku\" : \"" + sku_ +
                                  "\" } ] ,\n \"currency\":\"EUR\", \"userId\": \"" + user_ +
                                  "\" }";
    EXPECT_TRUE(IsDuplicate(api().command("POST", "/v1/orders", reordered, key)));
}

TEST_F(Idempotency, SameKeyOtherCommandTypeIsKeyReused) {
    const auto key = random_uuid();
    const auto placed = to_ack(api().place_order(body(1), key));
    ASSERT_EQ(placed.status, 202);
    EXPECT_TRUE(IsError(api().cancel(placed.order_id, json{{"reason", "r"}}, key), 409,
                        "idempotency_key_reused"));
    EXPECT_TRUE(
        IsError(api().ship(placed.order_id, json::object(), key), 409, "idempotency_key_reused"));
    EXPECT_TRUE(IsError(api().put_product(sku_, product_body("x", "EUR", 1, 1), key), 409,
                        "idempotency_key_reused"));
}

TEST_F(Idempotency, SameKeyOtherTargetIsKeyReused) {
    const auto o1 = api().create_order(user_, {{sku_, 1}});
    const auto o2 = api().create_order(user_, {{sku_, 1}});
    const json pay = {{"paymentRef", "same"}, {"amountMinor", 100}};
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().pay(o1.order_id, pay, key)));
    EXPECT_TRUE(IsError(api().pay(o2.order_id, pay, key), 409, "idempotency_key_reused"));
    // o2 was not paid by that.
    EXPECT_TRUE(IsAccepted(api().pay(o2.order_id, pay, random_uuid())));

    const auto pkey = random_uuid();
    const auto pb = product_body("Same", "EUR", 10, 1);
    ASSERT_TRUE(IsAccepted(api().put_product(unique_sku("P1"), pb, pkey)));
    EXPECT_TRUE(
        IsError(api().put_product(unique_sku("P2"), pb, pkey), 409, "idempotency_key_reused"));
}

TEST_F(Idempotency, ExpectedVersionIsPartOfThePayload) {
    const auto o = api().create_order(user_, {{sku_, 1}});
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().pay(
        o.order_id, json{{"expectedVersion", 1}, {"paymentRef", "p"}, {"amountMinor", 100}}, key)));
    EXPECT_TRUE(IsError(api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 100}}, key),
                        409, "idempotency_key_reused"));
}

// ---- order of checks ----

TEST_F(Idempotency, MalformedJsonBeatsTheKey) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(), key)));
    EXPECT_TRUE(IsValidationError(api().command("POST", "/v1/orders", "{\"userId\": ", key)));
    EXPECT_TRUE(IsValidationError(api().command("POST", "/v1/orders", "not json", key)));
}

TEST_F(Idempotency, UsedKeyBeatsFieldValidation) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(), key)));
    EXPECT_TRUE(IsError(api().place_order(body(0), key), 409, "idempotency_key_reused"));
    json unknown_field = body();
    unknown_field["coupon"] = "FREE";
    EXPECT_TRUE(IsError(api().place_order(unknown_field, key), 409, "idempotency_key_reused"));
    EXPECT_TRUE(
        IsError(api().place_order(json{{"userId", "nope"}}, key), 409, "idempotency_key_reused"));
    EXPECT_TRUE(IsError(api().place_order(json::object(), key), 409, "idempotency_key_reused"));
}

TEST_F(Idempotency, UsedKeyBeatsDomainRules) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(), key)));
    // Another target that does not exist: the key answers first (409), not 404.
    const auto r = api().pay(random_uuid(), json{{"paymentRef", "p"}, {"amountMinor", 1}}, key);
    EXPECT_TRUE(IsError(r, 409, "idempotency_key_reused"));
    // A payload that would now fail domain rules (no stock left for it) still answers duplicate.
    const auto big_key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().place_order(body(40), big_key)));
    EXPECT_TRUE(IsDuplicate(api().place_order(body(40), big_key)));
}

TEST_F(Idempotency, RejectedByStockLeavesNoRecordAndSucceedsAfterRestock) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 1);
    const auto key = random_uuid();
    const auto b = order_body(user_, "EUR", {{sku, 2}});
    ASSERT_TRUE(IsError(api().place_order(b, key), 422, "insufficient_stock"));
    ASSERT_TRUE(IsError(api().place_order(b, key), 422, "insufficient_stock"))
        << "a rejection is not replayed as such";
    api().create_product(sku, 100, 5);
    const auto r = api().place_order(b, key);
    ASSERT_TRUE(IsAccepted(r));
    EXPECT_EQ(api().must_read("/v1/products/" + sku, to_ack(r).token)["stock"], 3);
    EXPECT_TRUE(IsDuplicate(api().place_order(b, key)));
}

TEST_F(Idempotency, RejectedCommandKeyIsFreeForAnotherPayload) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsError(api().place_order(order_body(user_, "EUR", {{unique_sku("NOPE"), 1}}), key),
                        422, "unknown_sku"));
    EXPECT_TRUE(IsAccepted(api().place_order(body(1), key)));
}

TEST_F(Idempotency, InvalidCommandKeyIsFreeAfterwards) {
    const auto key = random_uuid();
    ASSERT_TRUE(IsValidationError(api().place_order(body(0), key)));
    ASSERT_TRUE(IsValidationError(api().command("POST", "/v1/orders", "{oops", key)));
    EXPECT_TRUE(IsAccepted(api().place_order(body(1), key)));
}

TEST_F(Idempotency, VersionConflictAndNotFoundLeaveNoRecord) {
    const auto o = api().create_order(user_, {{sku_, 1}});
    const auto key = random_uuid();
    ASSERT_TRUE(IsError(
        api().pay(o.order_id,
                  json{{"expectedVersion", 9}, {"paymentRef", "p"}, {"amountMinor", 100}}, key),
        409, "version_conflict"));
    EXPECT_TRUE(IsAccepted(api().pay(
        o.order_id, json{{"expectedVersion", 1}, {"paymentRef", "p"}, {"amountMinor", 100}}, key)));

    const auto key2 = random_uuid();
    ASSERT_TRUE(IsError(api().ship(random_uuid(), json::object(), key2), 404, "not_found"));
    EXPECT_TRUE(IsAccepted(api().ship(o.order_id, json::object(), key2)));
}

TEST_F(Idempotency, KeyReusedLeavesTheOriginalIntact) {
    const auto key = random_uuid();
    const auto first = to_ack(api().place_order(body(1), key));
    ASSERT_EQ(first.status, 202);
    ASSERT_EQ(api().place_order(body(5), key).status, 409);
    const auto later = api().create_order(user_, {{sku_, 1}});
    EXPECT_EQ(stock_now(join_tokens({first.token, later.token})), 48);
}

TEST_F(Idempotency, DuplicatesSurviveARestart) {
    const auto key = random_uuid();
    const auto first = to_ack(api().place_order(body(2), key));
    ASSERT_EQ(first.status, 202);
    const auto pay_key = random_uuid();
    const json pay = {{"paymentRef", "p"}, {"amountMinor", 200}};
    const auto paid = api().pay(first.order_id, pay, pay_key);
    ASSERT_TRUE(IsAccepted(paid));
    restart_service();
    const auto again = api().place_order(body(2), key);
    ASSERT_TRUE(IsDuplicate(again));
    EXPECT_EQ(to_ack(again).order_id, first.order_id);
    EXPECT_EQ(to_ack(again).event_id, first.event_id);
    EXPECT_EQ(to_ack(again).version, 1);
    EXPECT_TRUE(IsDuplicate(api().pay(first.order_id, pay, pay_key)));
    EXPECT_TRUE(IsError(api().place_order(body(3), key), 409, "idempotency_key_reused"));
    // And the state is intact.
    const auto view = api().must_read("/v1/orders/" + first.order_id, to_ack(paid).token);
    EXPECT_EQ(view["status"], "PAID");
    EXPECT_EQ(view["version"], 2);
}

}  // namespace
}  // namespace ordinal::test
