#include "core/command_service.h"

#include <gtest/gtest.h>

#include "adapters/memory/lru_idempotency_cache.h"
#include "core/system_clock.h"
#include "support/fake_stores.h"

namespace ordinal {
namespace {

// Accepts every command (counting them) and remembers nothing: what the service answers
// without calling it is visible in `submits`.
class CountingWriteStore final : public test_support::EmptyWriteStore {
  public:
    int submits = 0;
    void submit(CommandRequest request, Done done) override {
        ++submits;
        Acknowledgement ack;
        ack.event_id = "e" + std::to_string(submits);
        ack.stream = StreamKey{StreamType::Order, request.idempotency_key};
        ack.version = 1;
        done(ack);
    }
};

CommandOutcome run(CommandService& svc, const std::string& key, const std::string& fingerprint) {
    CommandOutcome out = StoreError{};
    svc.execute(CommandRequest{key, fingerprint, ShipOrder{"o", std::nullopt}},
                [&](CommandOutcome o) { out = std::move(o); });
    return out;
}

TEST(CommandService, RepeatIsAnsweredFromTheCacheWithoutTheStore) {
    CountingWriteStore store;
    auto cache = make_lru_idempotency_cache(10);
    MetricsRegistry metrics;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    CommandService svc(store, *cache, metrics, ids, {});
    auto first = run(svc, "k1", "fp");
    ASSERT_TRUE(std::holds_alternative<Acknowledgement>(first));
    EXPECT_FALSE(std::get<Acknowledgement>(first).duplicate);
    auto again = run(svc, "k1", "fp");
    ASSERT_TRUE(std::holds_alternative<Acknowledgement>(again));
    EXPECT_TRUE(std::get<Acknowledgement>(again).duplicate);
    EXPECT_EQ(std::get<Acknowledgement>(again).event_id, std::get<Acknowledgement>(first).event_id);
    EXPECT_TRUE(std::holds_alternative<KeyReused>(run(svc, "k1", "other")));
    EXPECT_EQ(store.submits, 1);
    EXPECT_EQ(metrics.counter("ordinal_idempotency_repeats_total", "", {{"answered_by", "cache"}})
                  .value(),
              2u);
    EXPECT_EQ(
        metrics.counter("ordinal_idempotency_repeats_total", "", {{"answered_by", "write_store"}})
            .value(),
        0u);
    auto used = svc.answer_for_used_key("k1", "other");
    ASSERT_TRUE(used);
    ASSERT_TRUE(used->has_value());
    EXPECT_TRUE(std::holds_alternative<KeyReused>(**used));
    auto unused = svc.answer_for_used_key("k2", "fp");
    ASSERT_TRUE(unused);
    EXPECT_FALSE(unused->has_value());
}

TEST(CommandService, ShedsLoadPastTheOutboxLagBound) {
    CountingWriteStore store;
    auto cache = make_lru_idempotency_cache(10);
    MetricsRegistry metrics;
    SystemClock clock;
    RandomIdGenerator ids{clock};
    CommandService svc(store, *cache, metrics, ids, CommandServiceOptions{100});
    svc.set_outbox_pending(101);
    auto shed = run(svc, "k1", "fp");
    ASSERT_TRUE(std::holds_alternative<StoreError>(shed));
    EXPECT_EQ(std::get<StoreError>(shed).kind, StoreError::Kind::Overloaded);
    EXPECT_EQ(store.submits, 0);
    svc.set_outbox_pending(100);
    EXPECT_TRUE(std::holds_alternative<Acknowledgement>(run(svc, "k1", "fp")));
    EXPECT_NE(metrics.render_prometheus().find("result=\"overloaded\""), std::string::npos);
}

}  // namespace
}  // namespace ordinal
