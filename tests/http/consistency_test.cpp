// The consistency gate: read-your-writes with tokens, merged tokens, malformed headers, and the
// bounded wait that ends in 503 consistency_timeout.
#include <thread>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

using Ms = std::chrono::milliseconds;

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - since).count();
}

class Consistency : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        sku_ = unique_sku();
        api().create_product(sku_, 100, nullptr);
    }

    // Tokens this service will never reach: acknowledgements from another service instance
    // (its own data directory), for an order stream and a product stream this one never saw,
    // and a later version of a product this one knows at version 1.
    struct Foreign {
        std::string order_token;
        std::string product_token;
        std::string ahead_token;  // our sku_ at version 3 (we only ever have version 1)
    };
    Foreign foreign_tokens() {
        ScratchDir other_dir("ordinal-foreign");
        InProcessService other(other_dir.path());
        other.start();
        OrdinalApi other_api(other.port());
        const auto other_sku = unique_sku("FOREIGN");
        Foreign f;
        f.product_token = other_api.create_product(other_sku, 1, nullptr).token;
        f.order_token = other_api.create_order(random_uuid(), {{other_sku, 1}}).token;
        other_api.create_product(sku_, 100, nullptr);
        other_api.create_product(sku_, 100, nullptr);
        f.ahead_token = other_api.create_product(sku_, 100, nullptr).token;
        other.stop();
        return f;
    }

    void expect_timeout(const HttpResponse& r) {
        EXPECT_TRUE(IsError(r, 503, "consistency_timeout"));
        const auto retry = r.header("Retry-After");
        ASSERT_TRUE(retry.has_value()) << r;
        EXPECT_FALSE(retry->empty()) << r;
        EXPECT_TRUE(std::all_of(retry->begin(), retry->end(),
                                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            << "Retry-After should be delta-seconds: " << r;
    }

    std::string sku_;
};

TEST_F(Consistency, ReadYourWritesForEveryCommand) {
    const auto user = random_uuid();
    for (int i = 0; i < 30; ++i) {
        const auto o = api().create_order(user, {{sku_, 1}});
        const auto r = api().get("/v1/orders/" + o.order_id, o.token);
        ASSERT_EQ(r.status, 200) << "iteration " << i << ": " << r;
        EXPECT_EQ(r.json_body()["version"], 1);
        const auto paid =
            api().must_command("pay", o.order_id, json{{"paymentRef", "p"}, {"amountMinor", 100}});
        const auto v = api().must_read("/v1/orders/" + o.order_id, paid.token);
        EXPECT_EQ(v["status"], "PAID") << "iteration " << i;
        EXPECT_EQ(v["version"], 2);
        const auto list = api().must_read("/v1/users/" + user + "/orders?limit=1", paid.token);
        ASSERT_EQ(list["orders"].size(), 1u);
        EXPECT_EQ(list["orders"][0]["orderId"], o.order_id) << "iteration " << i;
        EXPECT_EQ(list["orders"][0]["status"], "PAID") << "iteration " << i;
    }
}

TEST_F(Consistency, ReadYourWritesForProducts) {
    for (int i = 2; i <= 12; ++i) {
        const auto put = api().create_product(sku_, 100 + i, i);
        const auto v = api().must_read("/v1/products/" + sku_, put.token);
        EXPECT_EQ(v["version"], i);
        EXPECT_EQ(v["priceMinor"], 100 + i);
        EXPECT_EQ(v["stock"], i);
    }
}

TEST_F(Consistency, TokensMergeCommaSeparated) {
    const auto a = api().create_order(random_uuid(), {{sku_, 1}});
    const auto b = api().create_order(random_uuid(), {{sku_, 2}});
    const auto p = api().create_product(sku_, 100, nullptr, "EUR", "renamed");
    for (const auto& header :
         {a.token + "," + b.token + "," + p.token, a.token + ", " + b.token + " , " + p.token}) {
        const auto r = api().get("/v1/orders/" + b.order_id, header);
        ASSERT_EQ(r.status, 200) << r;
        const auto pr = api().get("/v1/products/" + sku_, header);
        ASSERT_EQ(pr.status, 200) << pr;
        EXPECT_EQ(pr.json_body()["name"], "renamed");
    }
    // An older token of the same stream merges with a newer one (the highest version wins).
    const auto paid =
        api().must_command("pay", a.order_id, json{{"paymentRef", "p"}, {"amountMinor", 100}});
    const auto v = api().must_read("/v1/orders/" + a.order_id, a.token + "," + paid.token);
    EXPECT_EQ(v["version"], 2);
}

TEST_F(Consistency, SameHeaderRepeatedOrManyTokens) {
    std::vector<std::string> tokens;
    std::string last;
    for (int i = 0; i < 40; ++i) {
        const auto o = api().create_order(random_uuid(), {{sku_, 1}});
        tokens.push_back(o.token);
        last = o.order_id;
    }
    const auto r = api().get("/v1/orders/" + last, join_tokens(tokens));
    EXPECT_EQ(r.status, 200) << r;
}

TEST_F(Consistency, MalformedTokenIs400) {
    const auto o = api().create_order(random_uuid(), {{sku_, 1}});
    for (const std::string& bad :
         std::vector<std::string>{"garbage", "!!!", "ct1.", "ct1.!!!!", o.token + ",garbage",
                                  o.token.substr(0, o.token.size() / 2) + "%%%"}) {
        const auto r = api().get("/v1/orders/" + o.order_id, bad);
        EXPECT_TRUE(IsErrorStatus(r, 400)) << "token: " << bad;
    }
    EXPECT_TRUE(IsErrorStatus(api().get("/v1/products/" + sku_, "garbage"), 400));
    EXPECT_TRUE(IsErrorStatus(api().get("/v1/users/" + random_uuid() + "/orders", "garbage"), 400));
}

TEST_F(Consistency, MalformedWaitMsIs400) {
    const auto o = api().create_order(random_uuid(), {{sku_, 1}});
    for (const std::string bad : {"abc", "-1", "1.5", "10ms", "0x10", "1 2"}) {
        const auto r =
            api().http().get("/v1/orders/" + o.order_id,
                             {{"X-Consistency-Token", o.token}, {"X-Consistency-Wait-Ms", bad}});
        EXPECT_TRUE(IsErrorStatus(r, 400)) << "wait: " << bad;
        const auto no_token =
            api().http().get("/v1/orders/" + o.order_id, {{"X-Consistency-Wait-Ms", bad}});
        EXPECT_TRUE(IsErrorStatus(no_token, 400)) << "wait without token: " << bad;
    }
}

TEST_F(Consistency, LargeWaitMsIsCappedNotRejected) {
    const auto o = api().create_order(random_uuid(), {{sku_, 1}});
    EXPECT_EQ(api().get("/v1/orders/" + o.order_id, o.token, 10000).status, 200);
    EXPECT_EQ(api().get("/v1/orders/" + o.order_id, o.token, 999999999).status, 200);
}

TEST_F(Consistency, UnreachableTokenTimesOutWithinTheAskedWait) {
    const auto f = foreign_tokens();
    const auto known = api().create_order(random_uuid(), {{sku_, 1}});
    for (const auto& token : {f.order_token, f.product_token, f.ahead_token}) {
        const auto start = std::chrono::steady_clock::now();
        const auto r = api().get("/v1/orders/" + known.order_id, token, 200);
        const auto took = elapsed_ms(start);
        expect_timeout(r);
        EXPECT_GE(took, 150) << "answered before the wait ran out";
        EXPECT_LT(took, 1500) << "the asked wait of 200 ms was not honoured";
    }
    // Merged with a reachable token it still times out: every stream version must be there.
    const auto r =
        api().get("/v1/orders/" + known.order_id, known.token + "," + f.ahead_token, 200);
    expect_timeout(r);
    // Several header lines are one comma-separated list (RFC 9110): the unreachable one counts.
    expect_timeout(
        api().http().get("/v1/orders/" + known.order_id, {{"X-Consistency-Token", known.token},
                                                          {"X-Consistency-Token", f.ahead_token},
                                                          {"X-Consistency-Wait-Ms", "200"}}));
    // The product and list endpoints are gated the same way.
    expect_timeout(api().get("/v1/products/" + sku_, f.ahead_token, 100));
    expect_timeout(api().get("/v1/users/" + random_uuid() + "/orders", f.order_token, 100));
    // And a timed-out wait leaves nothing behind: ordinary reads work at once.
    EXPECT_EQ(api().get("/v1/orders/" + known.order_id, known.token, 200).status, 200);
}

TEST_F(Consistency, ZeroWaitAnswersAtOnce) {
    const auto f = foreign_tokens();
    const auto start = std::chrono::steady_clock::now();
    const auto r = api().get("/v1/products/" + sku_, f.product_token, 0);
    EXPECT_LT(elapsed_ms(start), 1000);
    expect_timeout(r);
}

TEST_F(Consistency, DefaultWaitIsAboutTwoSeconds) {
    const auto f = foreign_tokens();
    const auto start = std::chrono::steady_clock::now();
    const auto r = api().get("/v1/products/" + sku_, f.product_token);
    const auto took = elapsed_ms(start);
    expect_timeout(r);
    EXPECT_GE(took, 1800);
    EXPECT_LT(took, 4000);
}

TEST_F(Consistency, WaiterIsReleasedWhenTheVersionArrives) {
    // Two services cannot share a stream, so use our own: a waiter for version N+1 of a product,
    // released by the PUT that makes it.
    const auto f = foreign_tokens();           // ahead_token: sku_ at version 3
    api().create_product(sku_, 100, nullptr);  // version 2
    auto reader = new_api();
    HttpResponse waited;
    std::chrono::steady_clock::time_point done;
    std::thread t([&] {
        waited = reader->get("/v1/products/" + sku_, f.ahead_token, 5000);
        done = std::chrono::steady_clock::now();
    });
    std::this_thread::sleep_for(Ms(300));
    const auto put_at = std::chrono::steady_clock::now();
    api().create_product(sku_, 333, nullptr);  // version 3
    t.join();
    ASSERT_EQ(waited.status, 200) << waited;
    EXPECT_EQ(waited.json_body()["version"], 3);
    EXPECT_EQ(waited.json_body()["priceMinor"], 333);
    EXPECT_LT(std::chrono::duration_cast<Ms>(done - put_at).count(), 1500)
        << "the gate should wake on progress";
}

TEST_F(Consistency, WithoutTokenUnknownIs404AtOnce) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(IsError(api().get("/v1/orders/" + random_uuid()), 404, "not_found"));
    EXPECT_LT(elapsed_ms(start), 1000);
}

TEST_F(Consistency, TokensSurviveARestart) {
    const auto o = api().create_order(random_uuid(), {{sku_, 1}});
    restart_service();
    const auto r = api().get("/v1/orders/" + o.order_id, o.token, 5000);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.json_body()["orderId"], o.order_id);
}

}  // namespace
}  // namespace ordinal::test
