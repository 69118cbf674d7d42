// Queries: the order view, the user's order list (newest first, paged) and the product view.
#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

class Queries : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        sku_a_ = unique_sku("A");
        sku_b_ = unique_sku("B");
        api().create_product(sku_a_, 250, 10, "EUR", "Apple");
        api().create_product(sku_b_, 1000, nullptr, "EUR", "Banana");
    }
    // Places `n` orders for `user` one after another (a few ms apart, so "newest" is well-defined
    // at millisecond resolution) and returns their acks in placement order.
    std::vector<Ack> place_many(const std::string& user, int n) {
        std::vector<Ack> out;
        for (int i = 0; i < n; ++i) {
            if (i) std::this_thread::sleep_for(std::chrono::milliseconds(3));
            out.push_back(api().create_order(user, {{sku_b_, i + 1}}));
        }
        return out;
    }
    std::string tokens_of(const std::vector<Ack>& acks) {
        std::vector<std::string> t;
        for (const auto& a : acks) t.push_back(a.token);
        return join_tokens(t);
    }
    static bool no_next(const json& page) {
        return !page.contains("nextCursor") || page["nextCursor"].is_null();
    }

    std::string sku_a_, sku_b_;
};

TEST_F(Queries, OrderViewHasTheContractFields) {
    const auto user = random_uuid();
    const auto o = api().create_order(user, {{sku_a_, 3}, {sku_b_, 1}});
    const auto v = api().must_read("/v1/orders/" + o.order_id, o.token);
    EXPECT_EQ(v["orderId"], o.order_id);
    EXPECT_EQ(v["userId"], user);
    EXPECT_EQ(v["status"], "PLACED");
    EXPECT_EQ(v["currency"], "EUR");
    EXPECT_EQ(v["totalMinor"], 3 * 250 + 1000);
    EXPECT_EQ(v["version"], 1);
    EXPECT_TRUE(is_rfc3339_utc_ms(v["createdAt"])) << v.dump();
    EXPECT_TRUE(is_rfc3339_utc_ms(v["updatedAt"])) << v.dump();
    ASSERT_TRUE(v["items"].is_array());
    ASSERT_EQ(v["items"].size(), 2u) << v.dump();
    for (const auto& item : v["items"]) {
        if (item["sku"] == sku_a_) {
            EXPECT_EQ(item["qty"], 3);
            EXPECT_EQ(item["unitPriceMinor"], 250);
            EXPECT_EQ(item["lineTotalMinor"], 750);
        } else {
            EXPECT_EQ(item["sku"], sku_b_);
            EXPECT_EQ(item["qty"], 1);
            EXPECT_EQ(item["unitPriceMinor"], 1000);
            EXPECT_EQ(item["lineTotalMinor"], 1000);
        }
    }
    for (const char* f : {"orderId", "userId", "status", "currency", "items", "totalMinor",
                          "version", "createdAt", "updatedAt"}) {
        EXPECT_TRUE(v.contains(f)) << f;
    }
}

TEST_F(Queries, UpdatedAtMovesCreatedAtStays) {
    const auto o = api().create_order(random_uuid(), {{sku_a_, 1}});
    const auto v1 = api().must_read("/v1/orders/" + o.order_id, o.token);
    EXPECT_EQ(v1["createdAt"], v1["updatedAt"]);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto paid =
        api().must_command("pay", o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 250}});
    const auto v2 = api().must_read("/v1/orders/" + o.order_id, paid.token);
    EXPECT_EQ(v2["createdAt"], v1["createdAt"]);
    EXPECT_GT(v2["updatedAt"].get<std::string>(), v1["updatedAt"].get<std::string>());
    EXPECT_EQ(v2["status"], "PAID");
    EXPECT_EQ(v2["version"], 2);
}

TEST_F(Queries, ProductViewHasTheContractFields) {
    const auto put = api().create_product(sku_a_, 275, 8, "EUR", "Green apple");
    const auto v = api().must_read("/v1/products/" + sku_a_, put.token);
    EXPECT_EQ(v["sku"], sku_a_);
    EXPECT_EQ(v["name"], "Green apple");
    EXPECT_EQ(v["currency"], "EUR");
    EXPECT_EQ(v["priceMinor"], 275);
    EXPECT_EQ(v["stock"], 8);
    EXPECT_EQ(v["version"], 2);
}

TEST_F(Queries, UserOrdersAreNewestFirst) {
    const auto user = random_uuid();
    const auto acks = place_many(user, 4);
    const auto page = api().must_read("/v1/users/" + user + "/orders", tokens_of(acks));
    ASSERT_TRUE(page["orders"].is_array()) << page.dump();
    ASSERT_EQ(page["orders"].size(), 4u) << page.dump();
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(page["orders"][i]["orderId"], acks[3 - i].order_id) << page.dump();
    for (const auto& o : page["orders"]) {
        EXPECT_EQ(o["userId"], user);
        EXPECT_EQ(o["status"], "PLACED");
    }
    EXPECT_TRUE(no_next(page)) << page.dump();
}

TEST_F(Queries, UserOrdersPageWithLimitAndCursor) {
    const auto user = random_uuid();
    const auto acks = place_many(user, 5);
    const auto tokens = tokens_of(acks);
    std::vector<std::string> seen;
    std::string cursor;
    std::vector<std::size_t> sizes;
    for (int page_no = 0; page_no < 10; ++page_no) {
        std::string target = "/v1/users/" + user + "/orders?limit=2";
        if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
        const auto page = api().must_read(target, tokens);
        sizes.push_back(page["orders"].size());
        for (const auto& o : page["orders"]) seen.push_back(o["orderId"]);
        if (no_next(page)) break;
        ASSERT_TRUE(page["nextCursor"].is_string()) << page.dump();
        cursor = page["nextCursor"];
        ASSERT_FALSE(cursor.empty());
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
    ASSERT_EQ(seen.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(seen[i], acks[4 - i].order_id);
}

TEST_F(Queries, CursorPagingIsStableWhileNewOrdersArrive) {
    const auto user = random_uuid();
    const auto acks = place_many(user, 4);
    const auto first = api().must_read("/v1/users/" + user + "/orders?limit=2", tokens_of(acks));
    ASSERT_TRUE(first["nextCursor"].is_string()) << first.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const auto newer = api().create_order(user, {{sku_b_, 1}});
    const auto second = api().must_read("/v1/users/" + user + "/orders?limit=2&cursor=" +
                                            url_encode(first["nextCursor"].get<std::string>()),
                                        newer.token);
    ASSERT_EQ(second["orders"].size(), 2u) << second.dump();
    EXPECT_EQ(second["orders"][0]["orderId"], acks[1].order_id);
    EXPECT_EQ(second["orders"][1]["orderId"], acks[0].order_id);
}

TEST_F(Queries, DefaultLimitIsTwenty) {
    const auto user = random_uuid();
    std::vector<Ack> acks;
    for (int i = 0; i < 21; ++i) acks.push_back(api().create_order(user, {{sku_b_, 1}}));
    const auto page = api().must_read("/v1/users/" + user + "/orders", tokens_of(acks));
    EXPECT_EQ(page["orders"].size(), 20u);
    ASSERT_TRUE(page["nextCursor"].is_string()) << page.dump();
    const auto rest = api().must_read("/v1/users/" + user + "/orders?cursor=" +
                                      url_encode(page["nextCursor"].get<std::string>()));
    EXPECT_EQ(rest["orders"].size(), 1u);
    EXPECT_TRUE(no_next(rest)) << rest.dump();
    const auto all = api().must_read("/v1/users/" + user + "/orders?limit=100");
    std::set<std::string> ids;
    for (const auto& o : all["orders"]) ids.insert(o["orderId"]);
    EXPECT_EQ(ids.size(), 21u);
}

TEST_F(Queries, LimitOutsideOneToHundredIs400) {
    const auto user = random_uuid();
    for (const std::string bad : {"0", "101", "-1", "abc", "1.5", "99999999999999999999"}) {
        EXPECT_TRUE(IsValidationError(api().get("/v1/users/" + user + "/orders?limit=" + bad)))
            << "limit=" << bad;
    }
    EXPECT_EQ(api().get("/v1/users/" + user + "/orders?limit=1").status, 200);
    EXPECT_EQ(api().get("/v1/users/" + user + "/orders?limit=100").status, 200);
}

TEST_F(Queries, GarbageCursorIsA400) {
    // Not spelled out in docs/design.md, but a cursor the server never issued is client input that
    // must be refused, not a server error.
    const auto user = random_uuid();
    api().create_order(user, {{sku_b_, 1}});
    for (const std::string bad : {"garbage", "%%%", "AAAA", "eyJ4IjoxfQ"}) {
        const auto r = api().get("/v1/users/" + user + "/orders?cursor=" + url_encode(bad));
        EXPECT_TRUE(IsErrorStatus(r, 400)) << "cursor=" << bad;
    }
}

TEST_F(Queries, PagingThroughOrdersPlacedInTheSameMillisecond) {
    // Concurrent placements for one user share creation milliseconds; paging must still give
    // every order exactly once, newest first.
    const auto user = random_uuid();
    std::vector<std::string> tokens;
    std::set<std::string> ids;
    std::mutex mu;
    std::vector<std::thread> pool;
    for (int t = 0; t < 8; ++t) {
        pool.emplace_back([&] {
            OrdinalApi a(port());
            for (int i = 0; i < 6; ++i) {
                const auto r = a.place_order(order_body(user, "EUR", {{sku_b_, 1}}), random_uuid());
                if (r.status != 202) continue;
                std::lock_guard lock(mu);
                tokens.push_back(to_ack(r).token);
                ids.insert(to_ack(r).order_id);
            }
        });
    }
    for (auto& t : pool) t.join();
    ASSERT_EQ(ids.size(), 48u);
    api().must_read("/v1/users/" + user + "/orders?limit=1", join_tokens(tokens));
    for (const int limit : {1, 3, 7}) {
        std::vector<std::string> seen;
        std::vector<std::string> created;
        std::string cursor;
        for (int page = 0; page < 100; ++page) {
            std::string target = "/v1/users/" + user + "/orders?limit=" + std::to_string(limit);
            if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
            const auto b = api().must_read(target);
            ASSERT_LE(b["orders"].size(), static_cast<std::size_t>(limit));
            for (const auto& o : b["orders"]) {
                seen.push_back(o["orderId"]);
                created.push_back(o["createdAt"]);
            }
            if (no_next(b)) break;
            cursor = b["nextCursor"];
        }
        const std::set<std::string> unique(seen.begin(), seen.end());
        EXPECT_EQ(seen.size(), 48u) << "limit " << limit;
        EXPECT_EQ(unique, ids) << "limit " << limit;
        EXPECT_TRUE(std::is_sorted(created.begin(), created.end(), std::greater<>()))
            << "limit " << limit << ": not newest first";
    }
}

TEST_F(Queries, UserWithoutOrdersHasAnEmptyList) {
    const auto r = api().get("/v1/users/" + random_uuid() + "/orders");
    ASSERT_EQ(r.status, 200) << r;
    const auto b = r.json_body();
    EXPECT_TRUE(b["orders"].is_array());
    EXPECT_TRUE(b["orders"].empty());
    EXPECT_TRUE(no_next(b)) << b.dump();
}

TEST_F(Queries, ListsOnlyThatUsersOrders) {
    const auto alice = random_uuid(), bob = random_uuid();
    const auto a1 = api().create_order(alice, {{sku_b_, 1}});
    const auto b1 = api().create_order(bob, {{sku_b_, 1}});
    const auto a2 = api().create_order(alice, {{sku_b_, 1}});
    const auto tokens = join_tokens({a1.token, b1.token, a2.token});
    const auto alice_list = api().must_read("/v1/users/" + alice + "/orders", tokens);
    std::set<std::string> ids;
    for (const auto& o : alice_list["orders"]) ids.insert(o["orderId"]);
    EXPECT_EQ(ids, (std::set<std::string>{a1.order_id, a2.order_id}));
    const auto bob_list = api().must_read("/v1/users/" + bob + "/orders", tokens);
    ASSERT_EQ(bob_list["orders"].size(), 1u);
    EXPECT_EQ(bob_list["orders"][0]["orderId"], b1.order_id);
}

TEST_F(Queries, UserIdInPathIsCaseInsensitive) {
    const auto user = random_uuid();
    const auto o = api().create_order(user, {{sku_b_, 1}});
    const auto list = api().must_read("/v1/users/" + upper(user) + "/orders", o.token);
    ASSERT_EQ(list["orders"].size(), 1u) << list.dump();
    EXPECT_EQ(api().get("/v1/orders/" + upper(o.order_id), o.token).status, 200);
}

TEST_F(Queries, ListFollowsStatusChanges) {
    const auto user = random_uuid();
    const auto o = api().create_order(user, {{sku_a_, 1}});
    const auto cancelled = api().must_command("cancel", o.order_id, json{{"reason", "r"}});
    const auto list = api().must_read("/v1/users/" + user + "/orders", cancelled.token);
    ASSERT_EQ(list["orders"].size(), 1u);
    EXPECT_EQ(list["orders"][0]["status"], "CANCELLED");
    EXPECT_EQ(list["orders"][0]["version"], 2);
}

TEST_F(Queries, ProductStockFollowsOrdersAndCancellations) {
    const auto o1 = api().create_order(random_uuid(), {{sku_a_, 2}});
    const auto o2 = api().create_order(random_uuid(), {{sku_a_, 3}});
    EXPECT_EQ(api().must_read("/v1/products/" + sku_a_, join_tokens({o1.token, o2.token}))["stock"],
              5);
    const auto c = api().must_command("cancel", o1.order_id, json{{"reason", "r"}});
    EXPECT_EQ(api().must_read("/v1/products/" + sku_a_, c.token)["stock"], 7);
}

}  // namespace
}  // namespace ordinal::test
