// Concurrency: one effect per key, no overselling, optimistic locking races, read-your-writes
// under load. Each client thread has its own connection; results are asserted on the main
// thread.
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

struct Outcome {
    int status = 0;
    std::string error;  // "error" of an error body
    std::string order_id;
    std::string event_id;
    std::string token;
    std::string sku;
    std::int64_t current_version = -1;
    std::string transport_error;
};

Outcome outcome_of(const HttpResponse& r) {
    Outcome o;
    o.status = r.status;
    if (!r.is_json()) return o;
    const auto b = json::parse(r.body);
    if (!b.is_object()) return o;
    if (b.contains("error") && b["error"].is_string()) o.error = b["error"];
    if (b.contains("orderId") && b["orderId"].is_string()) o.order_id = b["orderId"];
    if (b.contains("eventId") && b["eventId"].is_string()) o.event_id = b["eventId"];
    if (b.contains("consistencyToken") && b["consistencyToken"].is_string())
        o.token = b["consistencyToken"];
    if (b.contains("sku") && b["sku"].is_string()) o.sku = b["sku"];
    if (b.contains("currentVersion") && b["currentVersion"].is_number_integer())
        o.current_version = b["currentVersion"];
    return o;
}

// Runs `n` calls of `fn(i, api)` spread over `threads` threads that start together.
template <class Fn>
std::vector<Outcome> run_parallel(std::uint16_t port, int n, int threads, Fn fn) {
    std::vector<Outcome> out(static_cast<std::size_t>(n));
    std::atomic<int> next{0};
    std::latch start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            OrdinalApi api(port, {}, std::chrono::seconds(30));
            api.http().get("/healthz");  // connect before the start line
            start.arrive_and_wait();
            for (int i; (i = next.fetch_add(1)) < n;) {
                try {
                    out[static_cast<std::size_t>(i)] = outcome_of(fn(i, api));
                } catch (const std::exception& e) {
                    out[static_cast<std::size_t>(i)].transport_error = e.what();
                }
            }
        });
    }
    for (auto& t : pool) t.join();
    return out;
}

std::map<int, int> count_statuses(const std::vector<Outcome>& v) {
    std::map<int, int> m;
    for (const auto& o : v) ++m[o.status];
    return m;
}

std::string describe(const std::map<int, int>& m) {
    std::string s;
    for (const auto& [k, v] : m) s += std::to_string(k) + "x" + std::to_string(v) + " ";
    return s;
}

class Concurrency : public ServiceTest {};

TEST_F(Concurrency, FiftyParallelRepeatsOfOneKeyMakeOneOrder) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 1000);
    for (int round = 0; round < 3; ++round) {
        const auto user = random_uuid();
        const auto key = random_uuid();
        const auto body = order_body(user, "EUR", {{sku, 3}}).dump();
        const auto res = run_parallel(port(), 50, 50, [&](int, OrdinalApi& a) {
            return a.command("POST", "/v1/orders", body, key);
        });
        const auto counts = count_statuses(res);
        EXPECT_EQ(counts.count(202) ? counts.at(202) : 0, 1) << describe(counts);
        EXPECT_EQ(counts.count(200) ? counts.at(200) : 0, 49) << describe(counts);
        std::set<std::string> order_ids, event_ids;
        for (const auto& o : res) {
            EXPECT_TRUE(o.transport_error.empty()) << o.transport_error;
            order_ids.insert(o.order_id);
            event_ids.insert(o.event_id);
        }
        EXPECT_EQ(order_ids.size(), 1u);
        EXPECT_EQ(event_ids.size(), 1u);
        const auto token = res.front().token;
        const auto list = api().must_read("/v1/users/" + user + "/orders", token);
        EXPECT_EQ(list["orders"].size(), 1u) << list.dump();
        // Reserved once: read behind a later order's token.
        const auto later = api().create_order(random_uuid(), {{sku, 1}});
        EXPECT_EQ(
            api().must_read("/v1/products/" + sku, join_tokens({token, later.token}))["stock"],
            1000 - (round + 1) * 4);
    }
}

TEST_F(Concurrency, ParallelRepeatsWithTwoPayloadsOneWinner) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const auto key = random_uuid();
    const std::string a = order_body(random_uuid(), "EUR", {{sku, 1}}).dump();
    const std::string b = order_body(random_uuid(), "EUR", {{sku, 2}}).dump();
    const auto res = run_parallel(port(), 40, 40, [&](int i, OrdinalApi& api) {
        return api.command("POST", "/v1/orders", i % 2 ? a : b, key);
    });
    int accepted = 0, duplicates = 0, reused = 0;
    int winner_parity = -1;
    for (int i = 0; i < 40; ++i) {
        const auto& o = res[static_cast<std::size_t>(i)];
        if (o.status == 202) {
            ++accepted;
            winner_parity = i % 2;
        }
    }
    ASSERT_EQ(accepted, 1) << describe(count_statuses(res));
    for (int i = 0; i < 40; ++i) {
        const auto& o = res[static_cast<std::size_t>(i)];
        if (o.status == 202) continue;
        if (i % 2 == winner_parity) {
            EXPECT_EQ(o.status, 200) << i;
            ++duplicates;
        } else {
            EXPECT_EQ(o.status, 409) << i;
            EXPECT_EQ(o.error, "idempotency_key_reused") << i;
            ++reused;
        }
    }
    EXPECT_EQ(duplicates, 19);
    EXPECT_EQ(reused, 20);
}

TEST_F(Concurrency, ThreeHundredOrdersForStockOfHundred) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 100);
    std::vector<std::string> users;
    for (int i = 0; i < 10; ++i) users.push_back(random_uuid());
    const auto res = run_parallel(port(), 300, 32, [&](int i, OrdinalApi& a) {
        return a.place_order(
            order_body(users[static_cast<std::size_t>(i) % users.size()], "EUR", {{sku, 1}}),
            random_uuid());
    });
    const auto counts = count_statuses(res);
    EXPECT_EQ(counts.count(202) ? counts.at(202) : 0, 100) << describe(counts);
    EXPECT_EQ(counts.count(422) ? counts.at(422) : 0, 200) << describe(counts);
    std::vector<std::string> tokens;
    std::set<std::string> accepted_ids;
    for (const auto& o : res) {
        EXPECT_TRUE(o.transport_error.empty()) << o.transport_error;
        if (o.status == 202) {
            tokens.push_back(o.token);
            accepted_ids.insert(o.order_id);
        } else if (o.status == 422) {
            EXPECT_EQ(o.error, "insufficient_stock");
            EXPECT_EQ(o.sku, sku);
        }
    }
    EXPECT_EQ(accepted_ids.size(), tokens.size());
    // Wait for every accepted order through its token, in batches.
    for (std::size_t i = 0; i < tokens.size(); i += 20) {
        std::vector<std::string> batch(
            tokens.begin() + static_cast<long>(i),
            tokens.begin() + static_cast<long>(std::min(tokens.size(), i + 20)));
        ASSERT_EQ(api().get("/v1/products/" + sku, join_tokens(batch)).status, 200);
    }
    const auto view = api().must_read("/v1/products/" + sku, put.token);
    EXPECT_EQ(view["stock"], 0);
    std::set<std::string> listed;
    for (const auto& u : users) {
        const auto page = api().must_read("/v1/users/" + u + "/orders?limit=100");
        for (const auto& o : page["orders"])
            EXPECT_TRUE(listed.insert(o["orderId"]).second) << "listed twice";
    }
    EXPECT_EQ(listed, accepted_ids);
}

TEST_F(Concurrency, RacingPaysWithExpectedVersionHaveOneWinner) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const auto o = api().create_order(random_uuid(), {{sku, 1}});
    const json pay = {{"expectedVersion", 1}, {"paymentRef", "p"}, {"amountMinor", 100}};
    const auto res = run_parallel(
        port(), 16, 16, [&](int, OrdinalApi& a) { return a.pay(o.order_id, pay, random_uuid()); });
    const auto counts = count_statuses(res);
    EXPECT_EQ(counts.count(202) ? counts.at(202) : 0, 1) << describe(counts);
    EXPECT_EQ(counts.count(409) ? counts.at(409) : 0, 15) << describe(counts);
    for (const auto& r : res) {
        if (r.status != 409) continue;
        EXPECT_EQ(r.error, "version_conflict");
        EXPECT_EQ(r.current_version, 2);
    }
}

TEST_F(Concurrency, RacingPaysWithoutExpectedVersionHaveOneWinner) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const auto o = api().create_order(random_uuid(), {{sku, 1}});
    const json pay = {{"paymentRef", "p"}, {"amountMinor", 100}};
    const auto res = run_parallel(
        port(), 16, 16, [&](int, OrdinalApi& a) { return a.pay(o.order_id, pay, random_uuid()); });
    const auto counts = count_statuses(res);
    EXPECT_EQ(counts.count(202) ? counts.at(202) : 0, 1) << describe(counts);
    EXPECT_EQ(counts.count(422) ? counts.at(422) : 0, 15) << describe(counts);
    for (const auto& r : res) {
        if (r.status == 422) {
            EXPECT_EQ(r.error, "invalid_transition");
        }
    }
    const auto tokens = [&] {
        std::vector<std::string> t;
        for (const auto& r : res) t.push_back(r.token);
        return join_tokens(t);
    }();
    const auto v = api().must_read("/v1/orders/" + o.order_id, tokens);
    EXPECT_EQ(v["version"], 2);
    EXPECT_EQ(v["status"], "PAID");
}

TEST_F(Concurrency, RacingCancelAndPayLeaveAConsistentOrder) {
    const auto sku = unique_sku();
    const auto put = api().create_product(sku, 100, 200);
    std::vector<Ack> orders;
    for (int i = 0; i < 20; ++i) orders.push_back(api().create_order(random_uuid(), {{sku, 2}}));
    // For each order, a pay and a cancel race; both may win (pay then cancel), never neither.
    const auto res = run_parallel(port(), 40, 16, [&](int i, OrdinalApi& a) {
        const auto& o = orders[static_cast<std::size_t>(i / 2)];
        return i % 2 ? a.pay(o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 200}},
                             random_uuid())
                     : a.cancel(o.order_id, json{{"reason", "race"}}, random_uuid());
    });
    std::vector<std::string> tokens{put.token};
    int still_reserved = 0;
    for (int i = 0; i < 20; ++i) {
        const auto& cancel = res[static_cast<std::size_t>(2 * i)];
        const auto& pay = res[static_cast<std::size_t>(2 * i + 1)];
        EXPECT_EQ(cancel.status, 202) << "cancel is allowed from PLACED and PAID";
        EXPECT_TRUE(pay.status == 202 || (pay.status == 422 && pay.error == "invalid_transition"))
            << pay.status;
        tokens.push_back(cancel.token);
        if (!pay.token.empty()) tokens.push_back(pay.token);
        const auto v = api().must_read("/v1/orders/" + orders[static_cast<std::size_t>(i)].order_id,
                                       join_tokens({cancel.token, pay.token}));
        EXPECT_EQ(v["status"], "CANCELLED");
        EXPECT_EQ(v["version"], pay.status == 202 ? 3 : 2);
        if (v["status"] != "CANCELLED") ++still_reserved;
    }
    for (std::size_t i = 0; i < tokens.size(); i += 20) {
        std::vector<std::string> batch(
            tokens.begin() + static_cast<long>(i),
            tokens.begin() + static_cast<long>(std::min(tokens.size(), i + 20)));
        ASSERT_EQ(api().get("/v1/products/" + sku, join_tokens(batch)).status, 200);
    }
    EXPECT_EQ(api().must_read("/v1/products/" + sku)["stock"], 200 - 2 * still_reserved);
}

TEST_F(Concurrency, ReadYourWritesUnderLoad) {
    const auto sku = unique_sku();
    api().create_product(sku, 7, nullptr);
    constexpr int kThreads = 8, kPerThread = 15;
    std::atomic<int> failures{0};
    std::mutex mu;
    std::vector<std::string> messages;
    std::vector<std::thread> pool;
    std::latch start(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        pool.emplace_back([&] {
            OrdinalApi a(port(), {}, std::chrono::seconds(30));
            a.http().get("/healthz");
            start.arrive_and_wait();
            auto fail = [&](const std::string& m) {
                ++failures;
                std::lock_guard lock(mu);
                if (messages.size() < 10) messages.push_back(m);
            };
            const auto user = random_uuid();
            try {
                for (int i = 0; i < kPerThread; ++i) {
                    const auto placed =
                        a.place_order(order_body(user, "EUR", {{sku, 1}}), random_uuid());
                    if (placed.status != 202) {
                        fail("place: " + placed.describe());
                        continue;
                    }
                    const auto ack = to_ack(placed);
                    const auto v1 = a.get("/v1/orders/" + ack.order_id, ack.token);
                    if (v1.status != 200 || v1.json_body()["version"] != 1)
                        fail("read after place: " + v1.describe());
                    const auto paid = a.pay(
                        ack.order_id, json{{"paymentRef", "p"}, {"amountMinor", 7}}, random_uuid());
                    if (paid.status != 202) {
                        fail("pay: " + paid.describe());
                        continue;
                    }
                    const auto v2 = a.get("/v1/orders/" + ack.order_id, to_ack(paid).token);
                    if (v2.status != 200 || v2.json_body()["status"] != "PAID")
                        fail("read after pay: " + v2.describe());
                    const auto list =
                        a.get("/v1/users/" + user + "/orders?limit=100", to_ack(paid).token);
                    bool listed_paid = false;
                    if (list.status == 200) {
                        const json listed = list.json_body();
                        for (const auto& o : listed["orders"]) {
                            if (o["orderId"] == ack.order_id && o["status"] == "PAID")
                                listed_paid = true;
                        }
                    }
                    if (!listed_paid) {
                        fail("list after pay: " + list.describe());
                    }
                }
            } catch (const std::exception& e) {
                fail(std::string("exception: ") + e.what());
            }
        });
    }
    for (auto& t : pool) t.join();
    EXPECT_EQ(failures.load(), 0);
    for (const auto& m : messages) ADD_FAILURE() << m;
}

}  // namespace
}  // namespace ordinal::test
