// The alerting rules in ops/prometheus are valid for Prometheus (promtool check rules), and every
// metric they name is one `ordinal serve` exports: an alert on a metric nobody exports never
// fires, which is worse than no alert.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

const std::string kRules = std::string(ORDINAL_SOURCE_DIR) + "/ops/prometheus/ordinal-alerts.yml";

std::set<std::string> metric_names_in(const std::string& text) {
    std::set<std::string> out;
    const std::regex name("ordinal_[a-z_]+");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
         it != std::sregex_iterator(); ++it)
        out.insert(it->str());
    return out;
}

TEST(AlertRules, PromtoolAcceptsThem) {
    ScratchDir logs{"ordinal-alert-rules"};
    const auto [code, out] = ChildProcess::run("/usr/bin/promtool", {"check", "rules", kRules},
                                               logs.path() + "/promtool.log");
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
}

TEST(AlertRules, EveryMetricTheyNameIsExported) {
    std::ifstream in(kRules);
    ASSERT_TRUE(in) << kRules;
    std::stringstream rules;
    rules << in.rdbuf();
    const std::set<std::string> named = metric_names_in(rules.str());
    ASSERT_GE(named.size(), 5u);

    ScratchDir data{"ordinal-alert-data"}, logs{"ordinal-alert-logs"};
    ServerProcess server(ORDINAL_BINARY, data.path(), logs.path());
    server.start();
    OrdinalApi api(server.port());
    // A command, so the families that appear with their first sample are there too.
    api.create_product(unique_sku(), 100, nullptr);
    const std::string exported = api.get("/metrics").body;
    for (const std::string& metric : named) {
        EXPECT_NE(exported.find("# TYPE " + metric + " "), std::string::npos)
            << metric << " is named by " << kRules << " but not exported";
    }
}

}  // namespace
}  // namespace ordinal::test
