// W3C Trace Context on the command endpoints: every answer carries a `traceparent` naming the
// trace the command is part of — the caller's trace id with a span id of Ordinal's, or a new
// trace when the caller sent none or an invalid one (the spec's "restart the trace").
#include <regex>

#include "support/http_expect.h"
#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

const std::string kTrace = "0af7651916cd43dd8448eb211c80319c";
const std::string kParent = "b7ad6b7169203331";

struct Traceparent {
    std::string trace_id, parent_id, flags;
};

// The answer's traceparent, which must be a valid version-00 header.
Traceparent answered_traceparent(const HttpResponse& r) {
    const auto h = r.header("traceparent");
    if (!h) throw std::runtime_error("no traceparent in " + r.describe());
    static const std::regex shape("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
    std::smatch m;
    if (!std::regex_match(*h, m, shape)) throw std::runtime_error("malformed traceparent " + *h);
    if (m[1] == std::string(32, '0') || m[2] == std::string(16, '0'))
        throw std::runtime_error("all-zero id in " + *h);
    return {m[1], m[2], m[3]};
}

class TraceContextHeaders : public ServiceTest {};

TEST_F(TraceContextHeaders, ACommandJoinsTheCallersTraceWithASpanOfItsOwn) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, 10);
    const Headers caller = {{"traceparent", "00-" + kTrace + "-" + kParent + "-01"},
                            {"tracestate", "rojo=00f067aa0ba902b7"}};
    const auto r =
        api().place_order(order_body(random_uuid(), "EUR", {{sku, 1}}), random_uuid(), caller);
    ASSERT_TRUE(IsAccepted(r)) << r;
    const auto tp = answered_traceparent(r);
    EXPECT_EQ(tp.trace_id, kTrace);
    EXPECT_NE(tp.parent_id, kParent);
    EXPECT_EQ(tp.flags, "01");
    EXPECT_EQ(r.header_count("traceparent"), 1u);

    // Every command endpoint, and the order commands too.
    const auto order = to_ack(r);
    const auto paid = api().pay(order.stream_id, json{{"paymentRef", "p"}, {"amountMinor", 100}},
                                random_uuid(), caller);
    ASSERT_TRUE(IsAccepted(paid)) << paid;
    EXPECT_EQ(answered_traceparent(paid).trace_id, kTrace);
}

TEST_F(TraceContextHeaders, WithoutOneOrWithAnInvalidOneANewTraceIsStartedPerCommand) {
    const auto sku = unique_sku();
    std::set<std::string> traces;
    const std::vector<Headers> sent = {
        {},
        {{"traceparent", "00-" + kTrace + "-" + kParent + "-01-extra"}},          // too long for 00
        {{"traceparent", "ff-" + kTrace + "-" + kParent + "-01"}},                // version ff
        {{"traceparent", "00-" + std::string(32, '0') + "-" + kParent + "-01"}},  // zero trace id
        {{"traceparent", "00-0AF7651916CD43DD8448EB211C80319C-" + kParent + "-01"}},  // upper case
    };
    for (const auto& headers : sent) {
        const auto r =
            api().put_product(sku, product_body("W", "EUR", 100, 5), random_uuid(), headers);
        ASSERT_TRUE(IsAccepted(r)) << r;
        const auto tp = answered_traceparent(r);
        EXPECT_NE(tp.trace_id, kTrace);
        EXPECT_EQ(tp.flags, "00");  // Ordinal samples nothing itself
        traces.insert(tp.trace_id);
    }
    EXPECT_EQ(traces.size(), sent.size());
}

TEST_F(TraceContextHeaders, RejectedAndRepeatedCommandsNameTheirTraceToo) {
    const Headers caller = {{"traceparent", "00-" + kTrace + "-" + kParent + "-00"}};
    const auto invalid = api().place_order(json{{"userId", ""}}, random_uuid(), caller);
    ASSERT_TRUE(IsError(invalid, 400, "validation_failed")) << invalid;
    EXPECT_EQ(answered_traceparent(invalid).trace_id, kTrace);
    const auto unknown = api().ship(random_uuid(), json::object(), random_uuid(), caller);
    ASSERT_TRUE(IsError(unknown, 404, "not_found")) << unknown;
    EXPECT_EQ(answered_traceparent(unknown).trace_id, kTrace);

    // A repeat is a request of its own: it answers with the trace it came with.
    const auto sku = unique_sku();
    const auto key = random_uuid();
    ASSERT_TRUE(IsAccepted(api().put_product(sku, product_body("W", "EUR", 100, 5), key)));
    const auto again = api().put_product(sku, product_body("W", "EUR", 100, 5), key, caller);
    ASSERT_EQ(again.status, 200) << again;
    EXPECT_EQ(answered_traceparent(again).trace_id, kTrace);
}

}  // namespace
}  // namespace ordinal::test
