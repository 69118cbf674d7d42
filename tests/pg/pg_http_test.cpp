// End to end on PostgreSQL: `ordinal serve --write-db postgresql://... --read-db postgresql://...`
// places an order over HTTP and reads it back through the consistency gate.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/postgres_backend.h"
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

}  // namespace
}  // namespace ordinal
