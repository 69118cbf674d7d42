// W3C Trace Context: the traceparent and tracestate grammar (valid headers, each way one can be
// invalid), continuing a caller's trace with a span id of ours, minting one when there is none
// or it is invalid, and the JSON log line that carries the trace id.
#include "codec/trace_context.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "codec/log_json.h"

namespace ordinal {
namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kParent = "00f067aa0ba902b7";
const std::string kValid = "00-" + kTrace + "-" + kParent + "-01";

std::array<std::uint8_t, 24> bytes(std::uint8_t first) {
    std::array<std::uint8_t, 24> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(first + i);
    return out;
}

TEST(Traceparent, TheSpecExampleParses) {
    const auto tp = parse_traceparent(kValid);
    ASSERT_TRUE(tp);
    EXPECT_EQ(tp->trace_id, kTrace);
    EXPECT_EQ(tp->parent_id, kParent);
    EXPECT_EQ(tp->flags, 1);
    EXPECT_EQ(format_traceparent(*tp), kValid);
    EXPECT_TRUE(parse_traceparent(" \t" + kValid + " "));  // HTTP's optional whitespace
}

TEST(Traceparent, EveryMalformedShapeIsInvalid) {
    const std::vector<std::string> invalid = {
        "",
        kValid.substr(0, 54),                                      // one short
        kValid + "-",                                              // version 00 has no more
        kValid + "0",                                              //   nor anything else
        "ff-" + kTrace + "-" + kParent + "-01",                    // version ff is forbidden
        "0g-" + kTrace + "-" + kParent + "-01",                    // version not hex
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + kParent + "-01",  // upper case
        "00-00000000000000000000000000000000-" + kParent + "-01",  // trace id all zero
        "00-" + kTrace + "-0000000000000000-01",                   // parent id all zero
        "00-" + kTrace + "-" + kParent + "-0x",                    // flags not hex
        "00_" + kTrace + "-" + kParent + "-01",                    // wrong separators
        "00-" + kTrace + "_" + kParent + "-01",
        "00-" + kTrace + "-" + kParent + "_01",
        kValid + ", " + kValid,                             // two headers joined
        "00-" + kTrace.substr(1) + "-" + kParent + "-010",  // a field one short
    };
    for (const auto& h : invalid) EXPECT_FALSE(parse_traceparent(h)) << "'" << h << "'";
}

TEST(Traceparent, AHigherVersionIsReadByItsVersion00Prefix) {
    const std::string v1 = "01-" + kTrace + "-" + kParent + "-01";
    ASSERT_TRUE(parse_traceparent(v1));
    ASSERT_TRUE(parse_traceparent(v1 + "-whatever-comes-next"));
    EXPECT_EQ(parse_traceparent(v1 + "-more")->trace_id, kTrace);
    EXPECT_FALSE(parse_traceparent(v1 + "x"));  // not followed by '-'
}

TEST(Tracestate, ValidListsAreKeptTrimmedAndInvalidOnesDropped) {
    EXPECT_EQ(parse_tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
              "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    EXPECT_EQ(parse_tracestate(" rojo=1 ,\t, congo=2 "), "rojo=1,congo=2");  // empty members
    EXPECT_EQ(parse_tracestate("tenant@vendor=v, 1tenant@sys=w"), "tenant@vendor=v,1tenant@sys=w");
    EXPECT_EQ(parse_tracestate(""), "");
    const std::vector<std::string> invalid = {
        "rojo",                  // no '='
        "Rojo=1",                // upper-case key
        "1rojo=1",               // a simple key starts with a letter
        "rojo=",                 // empty value
        "rojo=a,rojo=b",         // repeated key
        "rojo=a=b",              // '=' in a value
        "rojo=caf\xc3\xa9",      // not printable ASCII
        "tenant@=v",             // empty system id
        "tenant@Vendor=v",       // system id not lower case
        "t@verylongsystemid=v",  // system id over 14 characters
    };
    for (const auto& h : invalid) EXPECT_FALSE(parse_tracestate(h)) << "'" << h << "'";
    std::string thirty_three;
    for (int i = 0; i < 33; ++i)
        thirty_three += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
    EXPECT_FALSE(parse_tracestate(thirty_three));
}

TEST(Tracestate, OneLongerThan512CharactersLosesItsLongMembersFirstThenItsLast) {
    const std::string long_member = "big=" + std::string(200, 'x');
    std::string header = "a=1," + long_member;
    for (int i = 0; i < 30; ++i) header += ",key" + std::to_string(i) + "=" + std::string(10, 'v');
    const auto kept = parse_tracestate(header);
    ASSERT_TRUE(kept);
    EXPECT_LE(kept->size(), 512u);
    EXPECT_EQ(kept->find("big="), std::string::npos);
    EXPECT_EQ(kept->rfind("a=1,", 0), 0u);  // the first members stay
}

TEST(ContinueTrace, KeepsTheCallersTraceIdAndSampledFlagWithASpanIdOfOurs) {
    const auto ctx = continue_trace(kValid, std::string("rojo=00f067aa0ba902b7"), bytes(1));
    const auto tp = parse_traceparent(ctx.traceparent);
    ASSERT_TRUE(tp) << ctx.traceparent;
    EXPECT_EQ(tp->trace_id, kTrace);
    EXPECT_EQ(ctx.trace_id(), kTrace);
    EXPECT_NE(tp->parent_id, kParent);
    EXPECT_EQ(tp->parent_id, "1112131415161718");  // bytes 16..23 of the draw
    EXPECT_EQ(tp->flags, 1);
    EXPECT_EQ(ctx.tracestate, "rojo=00f067aa0ba902b7");
    // Flags beyond sampled are not passed on; version 00 defines no others.
    const auto other =
        continue_trace("00-" + kTrace + "-" + kParent + "-ff", std::nullopt, bytes(1));
    EXPECT_EQ(parse_traceparent(other.traceparent)->flags, 1);
}

TEST(ContinueTrace, MintsANewTraceWhenTheHeaderIsAbsentOrInvalidAndThenIgnoresTracestate) {
    for (const std::optional<std::string>& header :
         {std::optional<std::string>(), std::optional<std::string>("00-garbage"),
          std::optional<std::string>("ff-" + kTrace + "-" + kParent + "-01")}) {
        const auto ctx = continue_trace(header, std::string("rojo=1"), bytes(0xa0));
        const auto tp = parse_traceparent(ctx.traceparent);
        ASSERT_TRUE(tp) << ctx.traceparent;
        EXPECT_EQ(tp->trace_id, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        EXPECT_EQ(tp->flags, 0);
        EXPECT_TRUE(ctx.tracestate.empty());
    }
    // An invalid tracestate beside a valid traceparent is dropped alone.
    const auto ctx = continue_trace(kValid, std::string("Not Valid"), bytes(1));
    EXPECT_EQ(ctx.trace_id(), kTrace);
    EXPECT_TRUE(ctx.tracestate.empty());
}

TEST(ContinueTrace, AnAllZeroDrawStillGivesValidIds) {
    const auto ctx = continue_trace(std::nullopt, std::nullopt, std::array<std::uint8_t, 24>{});
    EXPECT_TRUE(parse_traceparent(ctx.traceparent)) << ctx.traceparent;
}

TEST(ContinueTrace, RandomIdsDifferFromCallToCall) {
    std::set<std::string> traces, spans;
    for (int i = 0; i < 100; ++i) {
        const auto minted = continue_trace(std::nullopt, std::nullopt);
        ASSERT_TRUE(parse_traceparent(minted.traceparent)) << minted.traceparent;
        traces.insert(std::string(minted.trace_id()));
        spans.insert(continue_trace(kValid, std::nullopt).traceparent);
    }
    EXPECT_EQ(traces.size(), 100u);
    EXPECT_EQ(spans.size(), 100u);
}

TEST(LogLineJson, OneObjectWithTheTraceAndOrderIdsWhenKnown) {
    const std::string line = write_log_line_json(
        {1764998400123, "info", "command place_order answered 202 \"accepted\"\n", kTrace, "o-1"});
    EXPECT_EQ(line.find('\n'), std::string::npos);
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["timestamp"], "2025-12-06T05:20:00.123Z");
    EXPECT_EQ(j["level"], "info");
    EXPECT_EQ(j["message"], "command place_order answered 202 \"accepted\"\n");
    EXPECT_EQ(j["trace_id"], kTrace);
    EXPECT_EQ(j["order_id"], "o-1");
    const auto bare = nlohmann::json::parse(write_log_line_json({0, "warning", "\xff", {}, {}}));
    EXPECT_FALSE(bare.contains("trace_id"));
    EXPECT_FALSE(bare.contains("order_id"));
    EXPECT_EQ(bare["message"], "\xEF\xBF\xBD");  // not UTF-8: replaced, still one JSON object
}

}  // namespace
}  // namespace ordinal
