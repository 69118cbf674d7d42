// JSON form of `ordinal verify`'s report (codec/verify_report_json.h).
#include "codec/verify_report_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ordinal {
namespace {

using nlohmann::json;

TEST(VerifyReportJson, FindingsCountsAndSpeed) {
    VerifyReport r;
    r.findings = {{FindingKind::MissingInRead, "order/o-1", "read model version 0"},
                  {FindingKind::OutboxStale, "", "3 events pending"}};
    r.counts[static_cast<std::size_t>(FindingKind::MissingInRead)] = 4;
    r.counts[static_cast<std::size_t>(FindingKind::OutboxStale)] = 1;
    r.events_checked = 1000;
    r.order_streams = 300;
    r.product_streams = 7;
    r.lagging_streams = 2;
    r.lagging_events = 3;
    r.outbox_pending = 3;
    r.oldest_pending_age_ms = 61000;
    r.seconds = 0.5;
    const json j = json::parse(write_verify_report_json(r));
    EXPECT_EQ(j["clean"], false);
    EXPECT_EQ(j["findings"][0], json::parse(R"({"kind":"missing_in_read","stream":"order/o-1",
                              "detail":"read model version 0"})"));
    EXPECT_TRUE(j["findings"][1]["stream"].is_null());
    EXPECT_EQ(j["counts"].size(), kFindingKinds);
    EXPECT_EQ(j["counts"]["missing_in_read"], 4);
    EXPECT_EQ(j["counts"]["read_mismatch"], 0);
    EXPECT_EQ(j["findingsTotal"], 5);
    EXPECT_EQ(j["findingsListed"], 2);
    EXPECT_EQ(j["eventsChecked"], 1000);
    EXPECT_EQ(j["streams"], json::parse(R"({"orders":300,"products":7})"));
    EXPECT_EQ(j["lag"], json::parse(R"({"streams":2,"events":3})"));
    EXPECT_EQ(j["outbox"], json::parse(R"({"pending":3,"oldestPendingAgeMs":61000})"));
    EXPECT_DOUBLE_EQ(j["seconds"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(j["eventsPerSecond"].get<double>(), 2000.0);
}

TEST(VerifyReportJson, CleanReportAndBrokenUtf8FromAStore) {
    VerifyReport r;
    EXPECT_EQ(json::parse(write_verify_report_json(r))["clean"], true);
    r.findings = {{FindingKind::ReadAhead, "order/\xff", "x"}};
    r.counts[static_cast<std::size_t>(FindingKind::ReadAhead)] = 1;
    const json j = json::parse(write_verify_report_json(r));  // valid JSON regardless
    EXPECT_EQ(j["findings"][0]["kind"], "read_ahead");
}

}  // namespace
}  // namespace ordinal
