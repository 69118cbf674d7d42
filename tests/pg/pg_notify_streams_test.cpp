// NOTIFY ordinal_projection names the streams a projection commit moved (pg::Notifier), and an
// api's listener hands them to its gate as they are, with no read of the store; a notification
// that names nothing (a signal that did not say, too many streams for a payload, a projector of
// an older build) still has the listener look for itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_notifier.h"
#include "adapters/postgres/postgres_stores.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;
using Named = std::vector<std::pair<StreamKey, std::int64_t>>;

// What a listener was told: how many times to look, and every stream it was named.
class ListenerRecord {
  public:
    void progress() {
        std::lock_guard lock(mu_);
        ++looks_;
        cv_.notify_all();
    }
    void streams(std::span<const std::pair<StreamKey, std::int64_t>> named) {
        std::lock_guard lock(mu_);
        for (const auto& [stream, version] : named) {
            std::int64_t& at = named_[stream];
            at = std::max(at, version);
        }
        cv_.notify_all();
    }
    bool wait_looks(int n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, 10s, [&] { return looks_ >= n; });
    }
    bool wait_named(const StreamKey& stream, std::int64_t version) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, 10s, [&] {
            auto it = named_.find(stream);
            return it != named_.end() && it->second >= version;
        });
    }
    int looks() {
        std::lock_guard lock(mu_);
        return looks_;
    }
    std::size_t named_count() {
        std::lock_guard lock(mu_);
        return named_.size();
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    int looks_ = 0;
    std::map<StreamKey, std::int64_t> named_;
};

TEST(PgNotifyStreams, AListenerGetsTheStreamsAProjectorNamedAndLooksOnlyWhenNoneAreNamed) {
    test_support::PgTestDatabase db;
    ListenerRecord heard;
    auto listener = start_postgres_listener(
        db.url(), PgChannel::Projection, [&] { heard.progress(); },
        [&](std::span<const std::pair<StreamKey, std::int64_t>> named) { heard.streams(named); });
    ASSERT_TRUE(heard.wait_looks(1)) << "a listener looks once it is connected";
    pg::Notifier notifier(db.url(), "ordinal_projection");

    const StreamKey order{StreamType::Order, "0190a1b2-c3d4-7e5f-8a9b-000000000001"};
    const StreamKey product{StreamType::Product, "SKU-1"};
    notifier.signal(Named{{order, 3}, {product, 7}});
    ASSERT_TRUE(heard.wait_named(order, 3));
    ASSERT_TRUE(heard.wait_named(product, 7));
    const int looks = heard.looks();
    EXPECT_EQ(looks, 1) << "named streams are not looked up";

    notifier.signal(Named{});  // nothing moved: nothing sent
    notifier.signal();         // something committed, unnamed
    ASSERT_TRUE(heard.wait_looks(looks + 1));

    // More streams than a payload holds: named none, so the listener looks.
    Named many;
    for (int i = 0; i < 150; ++i)
        many.emplace_back(StreamKey{StreamType::Product, "SKU-MANY-" + std::to_string(i)}, 1);
    notifier.signal(many);
    ASSERT_TRUE(heard.wait_looks(looks + 2));
    EXPECT_EQ(heard.named_count(), 2u);

    // A projector of an older build notifies with an empty payload.
    pg::Connection::open(db.url()).exec("SELECT pg_notify('ordinal_projection', '')");
    ASSERT_TRUE(heard.wait_looks(looks + 3));
    // And a payload that is not a list of streams is looked at, never trusted.
    pg::Connection::open(db.url()).exec("SELECT pg_notify('ordinal_projection', 'order/x')");
    ASSERT_TRUE(heard.wait_looks(looks + 4));
    EXPECT_EQ(heard.named_count(), 2u);
}

// A listener that takes no names (the relay's, on ordinal_outbox; an api of an older build) is
// told to look on every notification, named or not.
TEST(PgNotifyStreams, AListenerWithoutAStreamsCallbackLooksOnEveryNotification) {
    test_support::PgTestDatabase db;
    ListenerRecord heard;
    auto listener =
        start_postgres_listener(db.url(), PgChannel::Projection, [&] { heard.progress(); });
    ASSERT_TRUE(heard.wait_looks(1));
    pg::Notifier notifier(db.url(), "ordinal_projection");
    notifier.signal(Named{{StreamKey{StreamType::Order, "o-1"}, 1}});
    ASSERT_TRUE(heard.wait_looks(2));
    EXPECT_EQ(heard.named_count(), 0u);
}

}  // namespace
}  // namespace ordinal
