// The process log of `ordinal serve` (embedded profile, one process): text by default, with the
// api's command line and the projector's apply line naming the command's trace id and order id;
// with ORDINAL_LOG_FORMAT=json every line is one JSON object, those two with trace_id and
// order_id keys. An unknown format is refused at start.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kTraceparent = "00-" + kTrace + "-00f067aa0ba902b7-01";

// Places an order with kTraceparent and reads it back; returns its id.
std::string place_traced_order(ServerProcess& server) {
    OrdinalApi api(server.port());
    const auto sku = unique_sku();
    api.create_product(sku, 100, 10);
    const auto r = api.place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid(),
                                   {{"traceparent", kTraceparent}});
    if (r.status != 202) throw std::runtime_error("place_order: " + r.describe());
    const auto ack = to_ack(r);
    if (api.get("/v1/orders/" + ack.order_id, ack.token, 5000).status != 200)
        throw std::runtime_error("the order never read back");
    return ack.order_id;
}

// Waits (bounded) until every string of `wanted` is on one line of the log; returns that line.
std::string wait_line_with(ServerProcess& server, const std::vector<std::string>& wanted) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
        std::istringstream lines(server.log());
        std::string line;
        while (std::getline(lines, line)) {
            bool all = true;
            for (const auto& w : wanted) all = all && line.find(w) != std::string::npos;
            if (all) return line;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return {};
}

TEST(ProcessLog, TextLinesNameTheTraceIdAndOrderIdOfTheCommandAndItsProjection) {
    ScratchDir data{"ordinal-log-data"}, logs{"ordinal-log-logs"};
    ServerProcess server(ORDINAL_BINARY, data.path(), logs.path());
    server.start();
    const std::string order = place_traced_order(server);
    EXPECT_NE(wait_line_with(server, {"[info] command place_order answered 202 accepted",
                                      "trace_id=" + kTrace, "order_id=" + order}),
              "")
        << server.log();
    EXPECT_NE(wait_line_with(server, {"[info] projected OrderPlaced order/" + order + " version 1",
                                      "trace_id=" + kTrace, "order_id=" + order}),
              "")
        << server.log();
    EXPECT_EQ(server.log().find("{\"timestamp\""), std::string::npos);  // text is the default
}

TEST(ProcessLog, JsonIsOneObjectPerLineWithTraceIdAndOrderIdKeys) {
    ScratchDir data{"ordinal-log-data"}, logs{"ordinal-log-logs"};
    ServerProcess server(ORDINAL_BINARY, data.path(), logs.path(), {},
                         {{"ORDINAL_LOG_FORMAT", "json"}});
    server.start();
    const std::string order = place_traced_order(server);
    const std::string command =
        wait_line_with(server, {"command place_order answered 202", kTrace});
    const std::string projected = wait_line_with(server, {"projected OrderPlaced", kTrace});
    ASSERT_NE(command, "") << server.log();
    ASSERT_NE(projected, "") << server.log();
    for (const std::string& line : {command, projected}) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["level"], "info") << line;
        EXPECT_EQ(j["trace_id"], kTrace) << line;
        EXPECT_EQ(j["order_id"], order) << line;
        EXPECT_EQ(j["timestamp"].get<std::string>().size(), 24u) << line;  // ...T..:..:..mmmZ
    }
    // Every line of the process log, the start-up lines included, is one JSON object.
    std::istringstream lines(server.log());
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        ++count;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
        EXPECT_TRUE(j.contains("timestamp") && j.contains("level") && j.contains("message"))
            << line;
    }
    EXPECT_GE(count, 4);
}

TEST(ProcessLog, AnUnknownFormatIsRefused) {
    ScratchDir logs{"ordinal-log-logs"};
    const auto [code, out] = ChildProcess::run(ORDINAL_BINARY, {"serve", "--log-format", "xml"},
                                               logs.path() + "/serve.log");
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find("log-format"), std::string::npos) << out;
}

}  // namespace
}  // namespace ordinal::test
