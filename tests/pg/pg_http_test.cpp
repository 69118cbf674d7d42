// End to end on PostgreSQL: `ordinal serve --write-db postgresql://... --read-db postgresql://...`
// places an order over HTTP and reads it back through the consistency gate; with PostgreSQL
// stopped under it, its error bodies tell nothing of the database.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/http_client.h"
#include "support/http_expect.h"
#include "support/internals.h"
#include "support/ordinal_api.h"
#include "support/postgres_backend.h"
#include "support/postgres_own_server.h"
#include "support/process_runner.h"
#include "support/temp_dir.h"
#include "support/test_uuid.h"

namespace ordinal {
namespace {

TEST(PgHttp, PlacesAnOrderAndReadsItBackOnPostgres) {
    test_support::PgTestDatabase write_db;
    test_support::PgTestDatabase read_db;  // the read store may be another database (or server)
    test_support::TempDir logs{"ordinal-pg-http"};
    test::ServerProcess server(ORDINAL_BINARY, "", logs.path().string(),
                               {"--write-db", write_db.url(), "--read-db", read_db.url()});
    server.start();
    test::HttpClient http(server.port());

    auto put = http.request("PUT", "/v1/products/sku-1",
                            R"({"name":"Mug","currency":"EUR","priceMinor":1250,"stock":5})",
                            {{"Idempotency-Key", test::random_uuid()}});
    ASSERT_EQ(put.status, 202) << put;

    const std::string key = test::random_uuid();
    const std::string body =
        R"({"userId":"0190a1b2-0000-7000-8000-0000000000aa","currency":"EUR","items":[{"sku":"sku-1","qty":2}]})";
    auto placed = http.request("POST", "/v1/orders", body, {{"Idempotency-Key", key}});
    ASSERT_EQ(placed.status, 202) << placed;
    const auto ack = placed.json_body();
    const std::string order_id = ack.at("orderId");
    const std::string token = ack.at("consistencyToken");

    auto again = http.request("POST", "/v1/orders", body, {{"Idempotency-Key", key}});
    ASSERT_EQ(again.status, 200) << again;
    EXPECT_EQ(again.json_body().at("status"), "duplicate");
    EXPECT_EQ(again.json_body().at("orderId"), order_id);

    auto order = http.get("/v1/orders/" + order_id, {{"X-Consistency-Token", token}});
    ASSERT_EQ(order.status, 200) << order;
    EXPECT_EQ(order.json_body().at("totalMinor"), 2500);
    EXPECT_EQ(order.json_body().at("status"), "PLACED");

    auto too_many = http.request(
        "POST", "/v1/orders",
        R"({"userId":"0190a1b2-0000-7000-8000-0000000000aa","currency":"EUR","items":[{"sku":"sku-1","qty":4}]})",
        {{"Idempotency-Key", test::random_uuid()}});
    EXPECT_EQ(too_many.status, 422) << too_many;
    EXPECT_EQ(http.get("/readyz").status, 200);
    EXPECT_TRUE(server.terminate().has_value());
}

// src/README.md "Error policy": libpq's messages and the SQL that failed stay out of every answer,
// and the server serves again once PostgreSQL is back.
TEST(PgHttp, ErrorBodiesShowNothingOfPostgresWhileItIsDown) {
    using namespace std::chrono_literals;
    test_support::OwnPostgresServer pg;  // it is stopped below: not the shared one
    test_support::TempDir logs{"ordinal-pg-down"};
    test::ServerProcess server(ORDINAL_BINARY, "", logs.path().string(),
                               {"--write-db", pg.url(), "--read-db", pg.url()});
    server.start();
    test::OrdinalApi api(server.port(), {}, 30s);
    const std::string sku = test::unique_sku();
    const auto created = api.create_product(sku, 100, 50);
    api.must_read("/v1/products/" + sku, created.token);
    const std::string user = test::random_uuid();

    ASSERT_TRUE(pg.down());
    const std::vector<test::HttpResponse> answers = {
        api.place_order(test::order_body(user, "EUR", {{sku, 1}}), test::random_uuid()),
        api.put_product(test::unique_sku(), test::product_body("n", "EUR", 1, 1),
                        test::random_uuid()),
        api.get("/v1/products/" + sku),
        api.get("/v1/orders/" + test::random_uuid()),
        api.get("/v1/users/" + user + "/orders"),
        api.get("/readyz"),
        api.get("/v1/admin/status"),
        api.admin_post("/v1/admin/projections/rebuild"),
    };
    EXPECT_TRUE(test::IsErrorStatus(answers[0], 503));
    EXPECT_TRUE(test::IsErrorStatus(answers[1], 503));
    EXPECT_EQ(answers[5].status, 503) << answers[5];
    for (const auto& r : answers) {
        EXPECT_TRUE(test::ShowsNoInternals(r.body, {pg.url(), "ordinal_test"})) << r;
    }

    ASSERT_TRUE(pg.up());
    const auto back = std::chrono::steady_clock::now();
    test::HttpResponse placed;
    do {
        std::this_thread::sleep_for(200ms);
        placed = api.place_order(test::order_body(user, "EUR", {{sku, 1}}), test::random_uuid());
    } while (placed.status != 202 && std::chrono::steady_clock::now() - back < 30s);
    EXPECT_TRUE(test::IsAccepted(placed));
    EXPECT_TRUE(server.terminate().has_value());
}

}  // namespace
}  // namespace ordinal
