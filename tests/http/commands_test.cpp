// Commands over HTTP: success shapes, the order state machine and stock reservation.
#include <cstdint>
#include <limits>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

class Commands : public ServiceTest {
  protected:
    json product(const std::string& sku, const std::string& token) {
        return api().must_read("/v1/products/" + sku, token);
    }
    json order(const std::string& id, const std::string& token) {
        return api().must_read("/v1/orders/" + id, token);
    }
};

TEST_F(Commands, PutProductIsAcknowledgedWithSkuStreamAndCountingVersion) {
    const auto sku = unique_sku();
    const auto k1 = random_uuid();
    const auto r1 = api().put_product(sku, product_body("Widget", "EUR", 1250, 10), k1);
    ASSERT_TRUE(IsAccepted(r1));
    const auto a1 = to_ack(r1);
    EXPECT_EQ(a1.stream_id, sku);
    EXPECT_EQ(a1.version, 1);

    const auto r2 =
        api().put_product(sku, product_body("Widget v2", "EUR", 1300, 7), random_uuid());
    ASSERT_TRUE(IsAccepted(r2));
    const auto a2 = to_ack(r2);
    EXPECT_EQ(a2.stream_id, sku);
    EXPECT_EQ(a2.version, 2);
    EXPECT_NE(a2.event_id, a1.event_id);

    const auto view = product(sku, a2.token);
    EXPECT_EQ(view["sku"], sku);
    EXPECT_EQ(view["name"], "Widget v2");
    EXPECT_EQ(view["currency"], "EUR");
    EXPECT_EQ(view["priceMinor"], 1300);
    EXPECT_EQ(view["stock"], 7);
    EXPECT_EQ(view["version"], 2);
}

TEST_F(Commands, PlaceOrderAnswers202WithLocationTokenAndNoReadModelData) {
    const auto sku = unique_sku();
    api().create_product(sku, 500, 10);
    const auto user = random_uuid();
    const auto r = api().place_order(order_body(user, "EUR", {{sku, 2}}), random_uuid());
    ASSERT_TRUE(IsAccepted(r));
    const auto a = to_ack(r);
    ASSERT_TRUE(is_uuid(a.order_id)) << r;
    EXPECT_EQ(a.stream_id, a.order_id);
    EXPECT_EQ(a.version, 1);
    EXPECT_EQ(r.header("Location").value_or("<none>"), "/v1/orders/" + a.order_id) << r;
    EXPECT_EQ(r.header_count("X-Consistency-Token"), 1u) << r;
    // IsAccepted already rejects any field beyond the acknowledgement; spell out the obvious ones.
    for (const char* f : {"items", "totalMinor", "userId", "currency", "createdAt", "stock"}) {
        EXPECT_FALSE(a.body.contains(f)) << f << " in " << r;
    }
}

TEST_F(Commands, ContentTypeWithCharsetParameterIsJson) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const auto r = api().http().request(
        "POST", "/v1/orders", order_body(random_uuid(), "EUR", {{sku, 1}}).dump(),
        {{"Content-Type", "application/json; charset=utf-8"}, {"Idempotency-Key", random_uuid()}});
    EXPECT_TRUE(IsAccepted(r));
}

TEST_F(Commands, OrderGoesPlacedPaidShippedWithVersionsAndViews) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 250, 10);
    const auto placed = api().create_order(random_uuid(), {{sku, 4}});
    EXPECT_EQ(order(placed.order_id, placed.token)["status"], "PLACED");

    const auto pay =
        api().pay(placed.order_id,
                  json{{"expectedVersion", 1}, {"paymentRef", "pay-1"}, {"amountMinor", 1000}},
                  random_uuid());
    ASSERT_TRUE(IsAccepted(pay));
    const auto paid = to_ack(pay);
    EXPECT_EQ(paid.version, 2);
    EXPECT_EQ(paid.stream_id, placed.order_id);
    const auto v2 = order(placed.order_id, paid.token);
    EXPECT_EQ(v2["status"], "PAID");
    EXPECT_EQ(v2["version"], 2);

    const auto ship = api().ship(placed.order_id, json{{"expectedVersion", 2}}, random_uuid());
    ASSERT_TRUE(IsAccepted(ship));
    const auto shipped = to_ack(ship);
    EXPECT_EQ(shipped.version, 3);
    const auto v3 = order(placed.order_id, shipped.token);
    EXPECT_EQ(v3["status"], "SHIPPED");
    EXPECT_EQ(v3["version"], 3);
    // Shipping does not give stock back. A ship token names only the order's stream; on a bus
    // without cross-stream order the product needs its own token too.
    EXPECT_EQ(product(sku, join_tokens({put.token, shipped.token}))["stock"], 6);
}

TEST_F(Commands, PayAndShipWithoutExpectedVersion) {
    const auto sku = unique_sku();
    api().create_product(sku, 300, nullptr);
    const auto placed = api().create_order(random_uuid(), {{sku, 3}});
    ASSERT_TRUE(IsAccepted(api().pay(
        placed.order_id, json{{"paymentRef", "r"}, {"amountMinor", 900}}, random_uuid())));
    const auto ship = api().ship(placed.order_id, json::object(), random_uuid());
    ASSERT_TRUE(IsAccepted(ship));
    EXPECT_EQ(order(placed.order_id, to_ack(ship).token)["status"], "SHIPPED");
}

TEST_F(Commands, PlacingReservesStockWithoutBumpingTheProductVersion) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 10);
    const auto o1 = api().create_order(random_uuid(), {{sku, 3}});
    auto view = product(sku, o1.token);
    EXPECT_EQ(view["stock"], 7);
    EXPECT_EQ(view["version"], 1) << "placing an order appends to the order stream only";
    const auto o2 = api().create_order(random_uuid(), {{sku, 7}});
    view = product(sku, join_tokens({put.token, o1.token, o2.token}));
    EXPECT_EQ(view["stock"], 0);
    EXPECT_EQ(view["version"], 1);
}

TEST_F(Commands, StockCanReachZeroButNotBelow) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 5);
    const auto o1 = api().create_order(random_uuid(), {{sku, 5}});
    const auto r = api().place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid());
    ASSERT_TRUE(IsError(r, 422, "insufficient_stock"));
    EXPECT_EQ(r.json_body().value("sku", ""), sku) << r;
    EXPECT_EQ(product(sku, o1.token)["stock"], 0);
}

TEST_F(Commands, MultiItemOrderIsAllOrNothing) {
    const auto a = unique_sku("A"), b = unique_sku("B");
    api().create_product(a, 100, 5);
    const auto put_b = api().create_product(b, 100, 1);
    const auto r =
        api().place_order(order_body(random_uuid(), "EUR", {{a, 2}, {b, 2}}), random_uuid());
    ASSERT_TRUE(IsError(r, 422, "insufficient_stock"));
    EXPECT_EQ(r.json_body().value("sku", ""), b) << r;
    // Nothing of `a` was reserved: a later order sees all 5.
    const auto later = api().create_order(random_uuid(), {{a, 5}});
    EXPECT_EQ(product(a, later.token)["stock"], 0);
    // `later` names only `a` among the products; on a bus without cross-stream order `b` is read
    // with its own token (without it Kafka may answer 404 for a product not yet projected).
    EXPECT_EQ(product(b, join_tokens({put_b.token, later.token}))["stock"], 1);
}

TEST_F(Commands, CancelFromPlacedReleasesStock) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 10);
    const auto o = api().create_order(random_uuid(), {{sku, 4}});
    EXPECT_EQ(product(sku, o.token)["stock"], 6);
    const auto r = api().cancel(
        o.order_id, json{{"expectedVersion", 1}, {"reason", "changed mind"}}, random_uuid());
    ASSERT_TRUE(IsAccepted(r));
    const auto c = to_ack(r);
    EXPECT_EQ(c.version, 2);
    EXPECT_EQ(order(o.order_id, c.token)["status"], "CANCELLED");
    EXPECT_EQ(product(sku, c.token)["stock"], 10);
}

TEST_F(Commands, CancelFromPaidReleasesStock) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 10);
    const auto o = api().create_order(random_uuid(), {{sku, 4}});
    api().must_command("pay", o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 400}});
    const auto r = api().cancel(o.order_id, json{{"reason", "refund"}}, random_uuid());
    ASSERT_TRUE(IsAccepted(r));
    const auto c = to_ack(r);
    EXPECT_EQ(c.version, 3);
    const auto view = order(o.order_id, c.token);
    EXPECT_EQ(view["status"], "CANCELLED");
    EXPECT_EQ(view["version"], 3);
    EXPECT_EQ(product(sku, c.token)["stock"], 10);
}

TEST_F(Commands, ReleasedStockCanBeOrderedAgain) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 3);
    const auto o = api().create_order(random_uuid(), {{sku, 3}});
    ASSERT_TRUE(
        IsError(api().place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid()), 422,
                "insufficient_stock"));
    api().must_command("cancel", o.order_id, json{{"reason", "r"}});
    const auto again = api().create_order(random_uuid(), {{sku, 3}});
    EXPECT_EQ(product(sku, again.token)["stock"], 0);
}

TEST_F(Commands, PutSetsAvailableStockToTheFigure) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 10);
    const auto o = api().create_order(random_uuid(), {{sku, 3}});
    EXPECT_EQ(product(sku, o.token)["stock"], 7);
    const auto put = api().create_product(sku, 100, 20);
    EXPECT_EQ(product(sku, put.token)["stock"], 20);
    const auto o2 = api().create_order(random_uuid(), {{sku, 5}});
    EXPECT_EQ(product(sku, o2.token)["stock"], 15);
    // The available figure is exact: 15 more fit, 16 do not.
    ASSERT_TRUE(
        IsError(api().place_order(order_body(random_uuid(), "EUR", {{sku, 16}}), random_uuid()),
                422, "insufficient_stock"));
    api().create_order(random_uuid(), {{sku, 15}});
}

TEST_F(Commands, CancelAfterAPutReleasesOnTopOfTheNewFigure) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 10);
    const auto o = api().create_order(random_uuid(), {{sku, 3}});
    const auto put = api().create_product(sku, 100, 20);  // available is now 20
    const auto c = api().must_command("cancel", o.order_id, json{{"reason", "r"}});
    EXPECT_EQ(product(sku, join_tokens({put.token, c.token}))["stock"], 23);
}

TEST_F(Commands, NullStockIsUnlimited) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 1, nullptr);
    EXPECT_TRUE(product(sku, put.token)["stock"].is_null());
    const auto o1 = api().create_order(random_uuid(), {{sku, 10000}});
    const auto o2 = api().create_order(random_uuid(), {{sku, 10000}});
    EXPECT_TRUE(product(sku, join_tokens({o1.token, o2.token}))["stock"].is_null());
}

TEST_F(Commands, OrderLocksInUnitPricesAtPlacement) {
    const auto sku = unique_sku();
    api().create_product(sku, 199, nullptr);
    const auto o = api().create_order(random_uuid(), {{sku, 2}});
    const auto put = api().create_product(sku, 999, nullptr);
    const auto view = order(o.order_id, join_tokens({o.token, put.token}));
    ASSERT_EQ(view["items"].size(), 1u);
    EXPECT_EQ(view["items"][0]["unitPriceMinor"], 199);
    EXPECT_EQ(view["totalMinor"], 398);
    // Paying asks for the locked-in total, not today's price.
    EXPECT_TRUE(IsError(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 1998}}, random_uuid()), 422,
        "amount_mismatch"));
    EXPECT_TRUE(IsAccepted(
        api().pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 398}}, random_uuid())));
}

TEST_F(Commands, HundredItemsAndMaxQtyAreAccepted) {
    std::vector<std::string> skus;
    for (int i = 0; i < 100; ++i) {
        skus.push_back(unique_sku("H" + std::to_string(i)));
        api().create_product(skus.back(), 1, nullptr);
    }
    Items items;
    for (const auto& s : skus) items.emplace_back(s, 10000);
    const auto r = api().place_order(order_body(random_uuid(), "EUR", items), random_uuid());
    ASSERT_TRUE(IsAccepted(r));
    const auto view = order(to_ack(r).order_id, to_ack(r).token);
    EXPECT_EQ(view["items"].size(), 100u);
    EXPECT_EQ(view["totalMinor"], 100 * 10000);
}

TEST_F(Commands, ZeroPriceAndTotalAtInt64MaxAreAccepted) {
    const auto free_sku = unique_sku("FREE");
    const auto max_sku = unique_sku("MAX");
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    api().create_product(free_sku, 0, nullptr);
    api().create_product(max_sku, kMax, nullptr);
    const auto o = api().create_order(random_uuid(), {{max_sku, 1}, {free_sku, 3}});
    const auto view = order(o.order_id, o.token);
    EXPECT_EQ(view["totalMinor"].get<std::int64_t>(), kMax);
    EXPECT_TRUE(IsAccepted(
        api().pay(o.order_id, json{{"paymentRef", "big"}, {"amountMinor", kMax}}, random_uuid())));
}

// ---- the state machine's forbidden transitions: 422 invalid_transition with from/to ----

class Transitions : public Commands {
  protected:
    void SetUp() override {
        Commands::SetUp();
        sku_ = unique_sku();
        product_token_ = api().create_product(sku_, 100, 100).token;
    }
    Ack placed() { return api().create_order(random_uuid(), {{sku_, 1}}); }
    void expect_invalid(const HttpResponse& r, const std::string& from, const std::string& to) {
        ASSERT_TRUE(IsError(r, 422, "invalid_transition"));
        const auto b = r.json_body();
        EXPECT_EQ(b.value("from", ""), from) << r;
        EXPECT_EQ(b.value("to", ""), to) << r;
    }
    json pay_body() { return json{{"paymentRef", "p"}, {"amountMinor", 100}}; }
    std::string sku_;
    // A pay or ship token names only the order's stream; reading the product also needs the
    // product's own version (a bus without cross-stream order may project it later).
    std::string product_token_;
};

TEST_F(Transitions, ShipBeforePay) {
    const auto o = placed();
    expect_invalid(api().ship(o.order_id, json::object(), random_uuid()), "PLACED", "SHIPPED");
}

TEST_F(Transitions, PayTwice) {
    const auto o = placed();
    api().must_command("pay", o.order_id, pay_body());
    expect_invalid(api().pay(o.order_id, pay_body(), random_uuid()), "PAID", "PAID");
}

TEST_F(Transitions, CancelAfterShipped) {
    const auto o = placed();
    api().must_command("pay", o.order_id, pay_body());
    const auto shipped = api().must_command("ship", o.order_id, json::object());
    expect_invalid(api().cancel(o.order_id, json{{"reason", "late"}}, random_uuid()), "SHIPPED",
                   "CANCELLED");
    // And stock stays reserved.
    EXPECT_EQ(product(sku_, join_tokens({product_token_, shipped.token}))["stock"], 99);
}

TEST_F(Transitions, NothingAfterCancelled) {
    const auto o = placed();
    api().must_command("cancel", o.order_id, json{{"reason", "r"}});
    expect_invalid(api().pay(o.order_id, pay_body(), random_uuid()), "CANCELLED", "PAID");
    expect_invalid(api().ship(o.order_id, json::object(), random_uuid()), "CANCELLED", "SHIPPED");
    expect_invalid(api().cancel(o.order_id, json{{"reason", "again"}}, random_uuid()), "CANCELLED",
                   "CANCELLED");
}

TEST_F(Transitions, ShipTwice) {
    const auto o = placed();
    api().must_command("pay", o.order_id, pay_body());
    api().must_command("ship", o.order_id, json::object());
    expect_invalid(api().ship(o.order_id, json::object(), random_uuid()), "SHIPPED", "SHIPPED");
    expect_invalid(api().pay(o.order_id, pay_body(), random_uuid()), "SHIPPED", "PAID");
}

TEST_F(Transitions, RejectedTransitionChangesNothing) {
    const auto o = placed();
    ASSERT_EQ(api().ship(o.order_id, json::object(), random_uuid()).status, 422);
    const auto paid = api().must_command("pay", o.order_id, pay_body());
    EXPECT_EQ(paid.version, 2) << "a rejected command must not append an event";
    EXPECT_EQ(order(o.order_id, paid.token)["version"], 2);
}

// ---- optimistic locking ----

TEST_F(Commands, StaleExpectedVersionIsVersionConflictWithCurrentVersion) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const auto o = api().create_order(random_uuid(), {{sku, 1}});
    auto r = api().pay(o.order_id,
                       json{{"expectedVersion", 5}, {"paymentRef", "p"}, {"amountMinor", 100}},
                       random_uuid());
    ASSERT_TRUE(IsError(r, 409, "version_conflict"));
    EXPECT_EQ(r.json_body().value("currentVersion", -1), 1) << r;

    api().must_command("pay", o.order_id,
                       json{{"expectedVersion", 1}, {"paymentRef", "p"}, {"amountMinor", 100}});
    r = api().ship(o.order_id, json{{"expectedVersion", 1}}, random_uuid());
    ASSERT_TRUE(IsError(r, 409, "version_conflict"));
    EXPECT_EQ(r.json_body().value("currentVersion", -1), 2) << r;

    r = api().cancel(o.order_id, json{{"expectedVersion", 3}, {"reason", "x"}}, random_uuid());
    ASSERT_TRUE(IsError(r, 409, "version_conflict"));
    EXPECT_EQ(r.json_body().value("currentVersion", -1), 2) << r;

    EXPECT_TRUE(IsAccepted(api().ship(o.order_id, json{{"expectedVersion", 2}}, random_uuid())));
}

}  // namespace
}  // namespace ordinal::test
