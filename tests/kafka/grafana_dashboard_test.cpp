// The Grafana dashboard in ops/grafana is a dashboard Grafana can load (JSON, panels with a
// Prometheus query each) showing what issue #13 asks for, and every metric its queries name is
// exported by a process of the production deployment (api, relay and projector on PostgreSQL and
// Kafka): a panel on a metric nobody exports stays empty, which is worse than no panel.
// The alerting rules get the same check against the embedded server (crash/alert_rules_test.cpp).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/kafka_broker.h"
#include "support/kafka_topology.h"
#include "support/ordinal_api.h"
#include "support/postgres_backend.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

const std::string kDashboard =
    std::string(ORDINAL_SOURCE_DIR) + "/ops/grafana/ordinal-dashboard.json";

json read_dashboard() {
    std::ifstream in(kDashboard);
    if (!in) throw std::runtime_error("cannot read " + kDashboard);
    return json::parse(in);
}

// Metric names in the dashboard's queries (only in "expr": titles and descriptions may say
// anything).
std::set<std::string> metrics_queried(const json& dashboard) {
    std::set<std::string> out;
    const std::regex name("ordinal_[a-z_]+");
    for (const auto& panel : dashboard["panels"]) {
        for (const auto& target : panel["targets"]) {
            const std::string expr = target["expr"];
            for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name);
                 it != std::sregex_iterator(); ++it)
                out.insert(it->str());
        }
    }
    return out;
}

// Whether `exposition` (Prometheus text) declares `metric`, or the histogram whose series it is.
bool exported(const std::string& exposition, const std::string& metric) {
    if (exposition.find("# TYPE " + metric + " ") != std::string::npos) return true;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (metric.size() > suffix.size() &&
            metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0) {
            const std::string base = metric.substr(0, metric.size() - suffix.size());
            if (exposition.find("# TYPE " + base + " histogram") != std::string::npos) return true;
        }
    }
    return false;
}

TEST(GrafanaDashboard, IsADashboardWithTheIssuesPanelsEachQueryingPrometheus) {
    const json d = read_dashboard();
    EXPECT_FALSE(d["title"].get<std::string>().empty());
    EXPECT_FALSE(d["uid"].get<std::string>().empty());
    std::set<std::string> titles;
    for (const auto& panel : d["panels"]) {
        titles.insert(panel["title"].get<std::string>());
        EXPECT_EQ(panel["datasource"]["type"], "prometheus") << panel["title"];
        ASSERT_FALSE(panel["targets"].empty()) << panel["title"];
        for (const auto& t : panel["targets"]) EXPECT_FALSE(t["expr"].get<std::string>().empty());
        for (const char* key : {"x", "y", "w", "h"}) EXPECT_TRUE(panel["gridPos"].contains(key));
    }
    for (const char* wanted : {"Command rate by result", "Command latency p99", "Outbox depth",
                               "Outbox oldest pending age", "Projection lag per partition (Kafka)",
                               "Dead letters", "Consistency timeouts", "Backpressure rejections",
                               "Projection behind and stalled per partition"})
        EXPECT_TRUE(titles.count(wanted)) << "no panel '" << wanted << "'";
}

TEST(GrafanaDashboard, EveryMetricItQueriesIsExportedByTheDeployment) {
    const std::set<std::string> queried = metrics_queried(read_dashboard());
    ASSERT_GE(queried.size(), 8u);

    test_support::PgTestDatabase write, read;
    KafkaTopic kafka;
    ScratchDir logs{"ordinal-dashboard"};
    TopologyConfig c;
    c.write_db = write.url();
    c.read_db = read.url();
    c.bus = kafka.url();
    KafkaTopology topo(logs.path(), c);
    struct StopAll {
        KafkaTopology& t;
        ~StopAll() { t.stop_all(); }
    } stop{topo};
    ASSERT_NO_THROW(topo.start_all(1));
    OrdinalApi api(topo.api().port());
    // Commands and a read, so the families that appear with their first sample are there too.
    const auto sku = unique_sku();
    api.create_product(sku, 100, nullptr);
    const auto order = api.create_order(random_uuid(), {{sku, 1}});
    ASSERT_EQ(api.get("/v1/orders/" + order.order_id, order.token, 10000).status, 200);

    // The projector's lag gauges appear once it has seen a partition's end (at most a second).
    OrdinalApi projector(topo.projector(0).port());
    std::string projector_metrics;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    do {
        projector_metrics = projector.get("/metrics").body;
        if (projector_metrics.find("ordinal_kafka_consumer_lag{") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    EXPECT_NE(projector_metrics.find("ordinal_kafka_consumer_lag{partition=\""), std::string::npos)
        << projector_metrics;

    // Everything was applied: once the gauges caught up, every held partition's lag is 0 (an
    // off-by-one would leave 1 on each partition that carried a message).
    const std::regex lag_line("ordinal_kafka_consumer_lag\\{partition=\"[0-9]+\"\\} ([0-9.e+]+)");
    bool caught_up = false;
    while (!caught_up && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(10)) {
        caught_up = true;
        int partitions = 0;
        for (auto it =
                 std::sregex_iterator(projector_metrics.begin(), projector_metrics.end(), lag_line);
             it != std::sregex_iterator(); ++it, ++partitions)
            caught_up = caught_up && std::stod((*it)[1]) == 0;
        caught_up = caught_up && partitions == 6;
        if (!caught_up) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            projector_metrics = projector.get("/metrics").body;
        }
    }
    EXPECT_TRUE(caught_up) << projector_metrics;

    // The api process's gauges of the whole projection, from the stores: every partition, 0
    // behind once its projector's heartbeat reported the end it applied up to.
    const std::regex behind_line(
        "ordinal_projection_behind\\{partition=\"[^\"]+/[0-9]+\"\\} ([0-9.e+]+)");
    std::string api_metrics;
    bool api_caught_up = false;
    while (!api_caught_up &&
           std::chrono::steady_clock::now() < deadline + std::chrono::seconds(20)) {
        api_metrics = api.get("/metrics").body;
        int partitions = 0;
        api_caught_up = true;
        for (auto it = std::sregex_iterator(api_metrics.begin(), api_metrics.end(), behind_line);
             it != std::sregex_iterator(); ++it, ++partitions)
            api_caught_up = api_caught_up && std::stod((*it)[1]) == 0;
        api_caught_up = api_caught_up && partitions == 6;
        if (!api_caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_TRUE(api_caught_up) << api_metrics;

    const std::string all = api.get("/metrics").body +
                            OrdinalApi(topo.relay().port()).get("/metrics").body +
                            projector_metrics;
    for (const std::string& metric : queried)
        EXPECT_TRUE(exported(all, metric)) << metric << " is queried by " << kDashboard
                                           << " but no process of the deployment exports it";
}

}  // namespace
}  // namespace ordinal::test
