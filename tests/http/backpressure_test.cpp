// Backpressure: past the bounded command queue the server sheds load with 503 overloaded and
// Retry-After, and what it did accept is kept.
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

TEST(Backpressure, FullWriterQueueAnswers503OverloadedWithRetryAfter) {
    ScratchDir dir;
    Settings s;
    s.listen = "127.0.0.1:0";
    s.data_dir = dir.path();
    s.writer_queue = 1;  // one command may wait for the writer; the rest are shed
    s.writer_batch = 1;
    s.http_threads = 4;
    auto started = Service::start(s);
    ASSERT_TRUE(started) << started.error();
    auto& service = *started;
    OrdinalApi admin(service->port());
    admin.create_product("bp-1", 100, json(nullptr));

    constexpr int kThreads = 32, kPerThread = 20;
    std::atomic<int> accepted{0}, overloaded{0}, other{0};
    std::mutex mu;
    std::vector<std::string> tokens_and_ids;
    std::latch go(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            OrdinalApi api(service->port());
            api.http().get("/healthz");
            go.arrive_and_wait();
            for (int i = 0; i < kPerThread; ++i) {
                const auto r =
                    api.place_order(order_body(random_uuid(), "EUR", {{"bp-1", 1}}), random_uuid());
                if (r.status == 202) {
                    ++accepted;
                    std::lock_guard lock(mu);
                    tokens_and_ids.push_back(to_ack(r).order_id + " " + to_ack(r).token);
                } else if (r.status == 503 && r.json_body().value("error", "") == "overloaded" &&
                           r.header("Retry-After").has_value()) {
                    ++overloaded;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_GT(overloaded.load(), 0)
        << "a queue bound of 1 under 32 concurrent clients must shed load";
    EXPECT_GT(accepted.load(), 0);
    EXPECT_EQ(other.load(), 0);
    // Every accepted order is kept and projected.
    for (const auto& line : tokens_and_ids) {
        const auto space = line.find(' ');
        const auto r = admin.get("/v1/orders/" + line.substr(0, space), line.substr(space + 1));
        EXPECT_EQ(r.status, 200) << r.describe();
    }
}

}  // namespace
}  // namespace ordinal::test
