// The projection per partition as any process draws it from the stores and the heartbeats
// (core/projection_picture.h), the projector's own progress tracking, and the watch that turns
// the picture into gauges and one log line per stall.
#include "core/projection_picture.h"

#include <gtest/gtest.h>

#include "core/projection_watch.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;

ReportedProcess picture_projector(std::string id, std::int64_t age_ms,
                                  std::vector<PartitionProgress> progress) {
    return ReportedProcess{std::move(id), age_ms, std::move(progress), {}, {}, true};
}

PictureInput picture_kafka_input() {
    PictureInput in;
    in.positions = {{"orders/0", 10}, {"orders/1", 20}};
    in.stale_after_ms = 5000;
    in.stall_after_ms = 30000;
    return in;
}

TEST(ProgressTracker, WaitingCountsOnlyWhileBehindWithThePositionUnmoved) {
    ProgressTracker t;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    auto p = t.observe({{"p", 5, 5}}, t0);
    EXPECT_EQ(p[0].waiting_ms, 0);
    // Caught up for a long time, then work arrives: it waits from its arrival, not from the last
    // move long ago.
    p = t.observe({{"p", 5, 5}}, t0 + 60s);
    EXPECT_EQ(p[0].moved_ago_ms, 60000);
    p = t.observe({{"p", 5, 9}}, t0 + 61s);
    EXPECT_EQ(p[0].waiting_ms, 1000);  // since it was last seen caught up
    p = t.observe({{"p", 5, 9}}, t0 + 64s);
    EXPECT_EQ(p[0].waiting_ms, 4000);
    EXPECT_EQ(p[0].moved_ago_ms, 64000);
    // Moving, however slowly, is not waiting.
    p = t.observe({{"p", 6, 12}}, t0 + 65s);
    EXPECT_EQ(p[0].waiting_ms, 0);
    EXPECT_EQ(p[0].moved_ago_ms, 0);
    p = t.observe({{"p", 6, 12}}, t0 + 70s);
    EXPECT_EQ(p[0].waiting_ms, 5000);
    // Unknown end: nothing is known to wait.
    p = t.observe({{"p", 6, std::nullopt}}, t0 + 80s);
    EXPECT_EQ(p[0].waiting_ms, 0);
    // A partition given away and taken again starts afresh.
    t.observe({}, t0 + 81s);
    p = t.observe({{"p", 6, 12}}, t0 + 200s);
    EXPECT_EQ(p[0].waiting_ms, 0);
    EXPECT_EQ(p[0].moved_ago_ms, 0);
}

TEST(ProjectionPicture, PositionAgainstTheEndTheOwnerReported) {
    auto in = picture_kafka_input();
    in.processes = {picture_projector(
        "a", 300, {{"orders/0", 10, 14, 2000, 0}, {"orders/1", 20, 20, 9000, 0}})};
    const auto parts = picture_partitions(in);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].partition, "orders/0");
    EXPECT_EQ(parts[0].owner, "a");
    EXPECT_EQ(parts[0].owner_state, "live");
    EXPECT_EQ(parts[0].position, 10);
    EXPECT_EQ(parts[0].bus_end, 14);
    EXPECT_EQ(parts[0].behind, 4);
    EXPECT_EQ(parts[0].moved_ago_ms, 2300);  // as reported, plus the heartbeat's age
    EXPECT_FALSE(parts[0].stalled);
    EXPECT_EQ(parts[1].behind, 0);
    EXPECT_FALSE(parts[1].stalled);
}

TEST(ProjectionPicture, AStaleOwnerStallsItsPartitions) {
    auto in = picture_kafka_input();
    in.processes = {picture_projector("a", 7000, {{"orders/0", 10, 10, 0, 0}})};
    const auto parts = picture_partitions(in);
    EXPECT_EQ(parts[0].owner_state, "stale");
    EXPECT_TRUE(parts[0].stalled);
    ASSERT_TRUE(parts[0].stalled_reason);
    EXPECT_NE(parts[0].stalled_reason->find("has not heartbeated for 7000 ms"), std::string::npos);
    // orders/1: nobody holds it and nobody ever reported its end: not known to wait.
    EXPECT_FALSE(parts[1].owner);
    EXPECT_FALSE(parts[1].behind);
    EXPECT_FALSE(parts[1].stalled);
}

TEST(ProjectionPicture, ALiveOwnerStallsOnlyWhenWaitingPastTheBound) {
    auto in = picture_kafka_input();
    in.processes = {picture_projector(
        "a", 500, {{"orders/0", 10, 15, 40000, 29000}, {"orders/1", 20, 25, 40000, 29600}})};
    const auto parts = picture_partitions(in);
    EXPECT_FALSE(parts[0].stalled);  // 29.5 s
    EXPECT_TRUE(parts[1].stalled);   // 30.1 s
    EXPECT_NE(parts[1].stalled_reason->find("30100 ms while 5 message(s) wait"), std::string::npos);
}

TEST(ProjectionPicture, DuringARebalanceTheLiveHolderIsTheOwner) {
    auto in = picture_kafka_input();
    in.processes = {picture_projector("old", 9000, {{"orders/0", 8, 9, 0, 0}}),
                    picture_projector("new", 200, {{"orders/0", 10, 12, 100, 0}}),
                    picture_projector("newer", 900, {{"orders/0", 10, 11, 100, 0}})};
    const auto parts = picture_partitions(in);
    EXPECT_EQ(parts[0].owner, "new");
    EXPECT_EQ(parts[0].bus_end, 12);
    EXPECT_FALSE(parts[0].stalled);
    // orders/1 is held by none; a position left without any holder is listed, not stalled.
    EXPECT_EQ(parts[1].partition, "orders/1");
    EXPECT_FALSE(parts[1].owner);
}

TEST(ProjectionPicture, TheEndIsTheFurthestReportedSoARelayKeepsItKnownWhileTheProjectorStops) {
    auto in = picture_kafka_input();
    in.processes = {
        picture_projector("a", 6000, {{"orders/0", 10, 10, 0, 0}}),
        ReportedProcess{"relay", 100, {}, {}, {{"orders/0", 16}, {"orders/1", 25}}, false}};
    auto parts = picture_partitions(in);
    EXPECT_EQ(parts[0].bus_end, 16);
    EXPECT_EQ(parts[0].behind, 6);
    EXPECT_TRUE(parts[0].stalled);  // its owner is stale
    // Held by nobody, with work published to it, and no projector alive: nothing applies it.
    EXPECT_EQ(parts[1].behind, 5);
    EXPECT_TRUE(parts[1].stalled);
    EXPECT_NE(parts[1].stalled_reason->find("no live projector holds it while 5"),
              std::string::npos);
    // With a projector alive the group is handing it over (a rebalance): not stalled.
    in.processes.push_back(picture_projector("b", 100, {{"orders/2", 0, 0, 0, 0}}));
    parts = picture_partitions(in);
    EXPECT_FALSE(parts[1].stalled);
}

TEST(ProjectionPicture, TheInProcessBusEndsAtTheOutboxsLastSequence) {
    PictureInput in;
    in.positions = {{"local", 40}};
    in.local_end = 45;
    in.processes = {picture_projector("embedded", 100, {{"local", 40, 44, 10, 10}})};
    auto parts = picture_partitions(in);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].bus_end, 45);  // the outbox as this process read it
    EXPECT_EQ(parts[0].behind, 5);
    // No projector registered at all: the outbox is not being projected.
    in.processes.clear();
    parts = picture_partitions(in);
    EXPECT_TRUE(parts[0].stalled);
    EXPECT_NE(parts[0].stalled_reason->find("no live projector holds it"), std::string::npos);
}

// The overview's lag: what waits over the partitions whose end is known, Kafka's several as the
// in-process bus's one; a partition with no known end counts for nothing, none known is none.
TEST(ProjectionPicture, TheTotalBehindSumsThePartitionsWhoseEndIsKnown) {
    auto in = picture_kafka_input();
    in.positions.push_back({"orders/2", 5});  // nobody reported its end
    in.processes = {picture_projector(
        "a", 300, {{"orders/0", 10, 14, 2000, 0}, {"orders/1", 20, 23, 9000, 0}})};
    const auto parts = picture_partitions(in);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[2].behind, std::nullopt);
    EXPECT_EQ(total_behind(parts), 7);
    EXPECT_EQ(total_behind({parts[2]}), std::nullopt);
    EXPECT_EQ(total_behind({}), std::nullopt);

    PictureInput local;
    local.positions = {{"local", 40}};
    local.local_end = 45;
    EXPECT_EQ(total_behind(picture_partitions(local)), 5);
    local.local_end = 40;
    EXPECT_EQ(total_behind(picture_partitions(local)), 0) << "caught up is 0, not none";
}

TEST(ProjectionPicture, OutboxPartitionsWithTheRelayPublishingThem) {
    PictureInput in;
    in.stale_after_ms = 5000;
    in.processes = {ReportedProcess{"r1", 100, {}, {0, 2}, {}, false},
                    ReportedProcess{"r2", 9000, {}, {1}, {}, false},
                    ReportedProcess{"r3", 200, {}, {2}, {}, false}};
    const auto parts = picture_outbox_partitions(in, 4);
    ASSERT_EQ(parts.size(), 4u);
    EXPECT_EQ(parts[0].owner, "r1");
    EXPECT_FALSE(parts[0].stalled);
    EXPECT_EQ(parts[1].owner, "r2");
    EXPECT_EQ(parts[1].owner_state, "stale");
    EXPECT_TRUE(parts[1].stalled);
    EXPECT_EQ(parts[2].owner, "r1");  // both live: the one heard from last
    EXPECT_FALSE(parts[3].owner);
    EXPECT_FALSE(parts[3].stalled);
}

// A process serves /metrics before the watch's first look at the picture: both families are
// there from the start, with no series yet (AlertRules.EveryMetricTheyNameIsExported once
// scraped a server in that window).
TEST(ProjectionWatch, ItsFamiliesAreExportedBeforeAnyPartitionIsKnown) {
    MetricsRegistry metrics;
    ProjectionWatch::describe(metrics);
    const std::string text = metrics.render_prometheus();
    EXPECT_NE(text.find("# TYPE ordinal_projection_behind gauge\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE ordinal_projection_stalled gauge\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("ordinal_projection_behind{"), std::string::npos) << text;
    // The series of a partition, once seen, join the same families.
    ProjectionWatch watch(metrics, nullptr);
    PartitionPicture p;
    p.partition = "local";
    p.behind = 3;
    watch.observe({p});
    const std::string after = metrics.render_prometheus();
    EXPECT_NE(after.find("ordinal_projection_behind{partition=\"local\"} 3"), std::string::npos)
        << after;
}

TEST(ProjectionWatch, GaugesPerPartitionAndOneLineWhenAStallStartsAndEnds) {
    MetricsRegistry metrics;
    std::vector<std::string> lines;
    ProjectionWatch watch(metrics, [&](const std::string& l) { lines.push_back(l); });
    PartitionPicture p;
    p.partition = "orders/0";
    p.behind = 3;
    watch.observe({p});
    std::string text = metrics.render_prometheus();
    EXPECT_NE(text.find("ordinal_projection_behind{partition=\"orders/0\"} 3"), std::string::npos)
        << text;
    EXPECT_NE(text.find("ordinal_projection_stalled{partition=\"orders/0\"} 0"), std::string::npos);
    EXPECT_TRUE(lines.empty());

    p.stalled = true;
    p.stalled_reason = "its projector a has not heartbeated for 6000 ms";
    watch.observe({p});
    watch.observe({p});
    watch.observe({p});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "projection of orders/0 stalled: its projector a has not heartbeated for 6000 ms "
              "(3 behind)");
    text = metrics.render_prometheus();
    EXPECT_NE(text.find("ordinal_projection_stalled{partition=\"orders/0\"} 1"), std::string::npos);

    p.stalled = false;
    p.behind = 0;
    watch.observe({p});
    watch.observe({p});
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1], "projection of orders/0 moving again");
    text = metrics.render_prometheus();
    EXPECT_NE(text.find("ordinal_projection_stalled{partition=\"orders/0\"} 0"), std::string::npos);
    EXPECT_NE(text.find("ordinal_projection_behind{partition=\"orders/0\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace ordinal
