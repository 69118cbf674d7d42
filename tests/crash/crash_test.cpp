// Crash safety of the real binary: SIGKILL `ordinal serve` in the middle of a write load,
// restart it on the same data directory, and check what docs/design.md promises — every
// acknowledged command survives exactly once, keys stay bound to their first result, answers
// that were lost resolve to exactly one effect, reserved stock equals the sum over
// non-cancelled orders, and the read model agrees.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/http_expect.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"

#ifndef ORDINAL_BINARY
#error "ORDINAL_BINARY must name the ordinal executable"
#endif

namespace ordinal::test {
namespace {

constexpr int kSkus =
    5;  // the last one has unlimited stock, so orders keep coming after the rest sell out
constexpr std::int64_t kInitialStock = 1500;
constexpr int kUsers = 6;
constexpr int kThreads = 8;
constexpr int kCycles = 3;

struct Order {
    std::string key;
    std::string body;
    std::string user;
    Items items;
    std::string order_id;
    std::string event_id;
    std::string token;  // the latest acknowledged token for this order
    bool cancelled = false;
    std::string cancel_key;
    std::string cancel_body;
    std::string cancel_event_id;
};

Order make_order(std::string key, std::string body, std::string user, Items items,
                 std::string order_id, std::string event_id, std::string token) {
    Order o;
    o.key = std::move(key);
    o.body = std::move(body);
    o.user = std::move(user);
    o.items = std::move(items);
    o.order_id = std::move(order_id);
    o.event_id = std::move(event_id);
    o.token = std::move(token);
    return o;
}

struct LostPlace {
    std::string key;
    std::string body;
    std::string user;
    Items items;
};

struct LostCancel {
    std::string key;
    std::string body;
    std::string order_id;
};

// What the clients know: acknowledged orders, and commands whose answer was lost.
class Model {
  public:
    void acked_place(Order o) {
        std::lock_guard lock(mu_);
        index_[o.order_id] = orders_.size();
        orders_.push_back(std::move(o));
    }
    // False if the order id was already known (a second order for one key would show here).
    bool acked_place_checked(Order o) {
        std::lock_guard lock(mu_);
        if (index_.count(o.order_id)) return false;
        index_[o.order_id] = orders_.size();
        orders_.push_back(std::move(o));
        return true;
    }
    void acked_cancel(const std::string& order_id, const std::string& key, const std::string& body,
                      const std::string& token, const std::string& event_id) {
        std::lock_guard lock(mu_);
        auto& o = orders_.at(index_.at(order_id));
        o.cancelled = true;
        o.cancel_key = key;
        o.cancel_body = body;
        o.token = token;
        o.cancel_event_id = event_id;
    }
    void lost_place(LostPlace p) {
        std::lock_guard lock(mu_);
        lost_places_.push_back(std::move(p));
    }
    void lost_cancel(LostCancel c) {
        std::lock_guard lock(mu_);
        lost_cancels_.push_back(std::move(c));
    }
    void anomaly(const std::string& what) {
        std::lock_guard lock(mu_);
        if (anomalies_.size() < 20) anomalies_.push_back(what);
        ++anomaly_count_;
    }
    std::vector<LostPlace> take_lost_places() {
        std::lock_guard lock(mu_);
        return std::exchange(lost_places_, {});
    }
    std::vector<LostCancel> take_lost_cancels() {
        std::lock_guard lock(mu_);
        return std::exchange(lost_cancels_, {});
    }
    std::vector<Order> orders() {
        std::lock_guard lock(mu_);
        return orders_;
    }
    std::vector<std::string> anomalies() {
        std::lock_guard lock(mu_);
        return anomalies_;
    }
    int anomaly_count() {
        std::lock_guard lock(mu_);
        return anomaly_count_;
    }

  private:
    std::mutex mu_;
    std::vector<Order> orders_;
    std::map<std::string, std::size_t> index_;
    std::vector<LostPlace> lost_places_;
    std::vector<LostCancel> lost_cancels_;
    std::vector<std::string> anomalies_;
    int anomaly_count_ = 0;
};

// Runs fn(i, api) for i in [0, n) on `threads` threads with their own connections.
template <class Fn>
void parallel_for(std::uint16_t port, std::size_t n, int threads, Fn fn) {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            OrdinalApi api(port, {}, std::chrono::seconds(15));
            for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(i, api);
        });
    }
    for (auto& t : pool) t.join();
}

class CrashRecovery : public ::testing::Test {
  protected:
    void SetUp() override {
        data_ = std::make_unique<ScratchDir>("ordinal-crash-data");
        logs_ = std::make_unique<ScratchDir>("ordinal-crash-logs");
        server_ = std::make_unique<ServerProcess>(ORDINAL_BINARY, data_->path(), logs_->path());
        for (int i = 0; i < kUsers; ++i) users_.push_back(random_uuid());
        for (int i = 0; i < kSkus; ++i) skus_.push_back(unique_sku("CRASH" + std::to_string(i)));
    }
    void TearDown() override {
        if (HasFailure() && server_)
            std::cerr << "---- last server log ----\n" << server_->log() << "\n";
        server_.reset();
    }

    // One writer thread: places orders (fresh keys) and cancels some of its own, until stopped.
    void writer(std::atomic<bool>& stop, std::atomic<bool>& killed) {
        OrdinalApi a(server_->port(), {}, std::chrono::seconds(5));
        std::vector<std::string> mine;  // acknowledged, not cancelled (by this thread)
        auto& rng = test_rng();
        while (!stop.load()) {
            const bool cancel = !mine.empty() && rng() % 5 == 0;
            const std::string key = random_uuid();
            if (cancel) {
                const std::size_t at = rng() % mine.size();
                const std::string id = mine[at];
                mine.erase(mine.begin() + static_cast<long>(at));
                const std::string body = json{{"reason", "crash test"}}.dump();
                HttpResponse r;
                try {
                    r = a.command("POST", "/v1/orders/" + id + "/cancel", body, key);
                } catch (const HttpError& e) {
                    if (e.phase() != HttpError::Phase::connect) model_.lost_cancel({key, body, id});
                    if (killed.load()) break;
                    if (e.phase() == HttpError::Phase::connect) {
                        model_.anomaly(
                            std::string("connect failed while the server should be up: ") +
                            e.what());
                        break;
                    }
                    continue;
                }
                if (r.status == 202 && r.is_json()) {
                    const auto b = r.json_body();
                    if (b.value("version", 0) != 2)
                        model_.anomaly("cancel acknowledged with version != 2: " + r.describe());
                    model_.acked_cancel(id, key, body, b.value("consistencyToken", ""),
                                        b.value("eventId", ""));
                } else if (r.status == 503) {
                    model_.lost_cancel({key, body, id});
                } else {
                    model_.anomaly("cancel answered " + r.describe());
                }
                continue;
            }
            const std::string user = users_[rng() % users_.size()];
            Items items;
            const std::size_t n = 1 + rng() % 2;
            const std::size_t first = rng() % skus_.size();
            for (std::size_t k = 0; k < n; ++k) {
                items.emplace_back(skus_[(first + k) % skus_.size()],
                                   static_cast<std::int64_t>(1 + rng() % 3));
            }
            const std::string body = order_body(user, "EUR", items).dump();
            HttpResponse r;
            try {
                r = a.command("POST", "/v1/orders", body, key);
            } catch (const HttpError& e) {
                if (e.phase() != HttpError::Phase::connect)
                    model_.lost_place({key, body, user, items});
                if (killed.load()) break;
                if (e.phase() == HttpError::Phase::connect) {
                    model_.anomaly(std::string("connect failed while the server should be up: ") +
                                   e.what());
                    break;
                }
                continue;
            }
            if (r.status == 202 && r.is_json()) {
                const auto b = r.json_body();
                Order o = make_order(key, body, user, items, b.value("orderId", ""),
                                     b.value("eventId", ""), b.value("consistencyToken", ""));
                if (o.order_id.empty() || b.value("version", 0) != 1)
                    model_.anomaly("odd order ack: " + r.describe());
                mine.push_back(o.order_id);
                model_.acked_place(std::move(o));
            } else if (r.status == 422 && r.is_json() &&
                       r.json_body().value("error", "") == "insufficient_stock") {
                // Rejected: no effect, nothing to remember.
            } else if (r.status == 503) {
                model_.lost_place({key, body, user, items});  // shed: may be retried
            } else {
                model_.anomaly("place answered " + r.describe());
            }
        }
    }

    // Runs the writers for about `for_ms`, then SIGKILLs the server under them.
    void load_and_kill(int for_ms) {
        std::atomic<bool> stop{false}, killed{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < kThreads; ++t) pool.emplace_back([&] { writer(stop, killed); });
        std::this_thread::sleep_for(std::chrono::milliseconds(for_ms));
        killed = true;
        server_->kill9();
        stop = true;
        for (auto& t : pool) t.join();
    }

    // Re-sends every command whose answer was lost: each must come out as exactly one effect.
    void resolve_lost() {
        OrdinalApi a(server_->port(), {}, std::chrono::seconds(15));
        for (const auto& p : model_.take_lost_places()) {
            const auto r = a.command("POST", "/v1/orders", p.body, p.key);
            if (r.status == 200 || r.status == 202) {
                ASSERT_TRUE(r.status == 202 ? IsAccepted(r) : IsDuplicate(r));
                const auto b = r.json_body();
                EXPECT_EQ(b.value("version", 0), 1) << r;
                const bool fresh = model_.acked_place_checked(
                    make_order(p.key, p.body, p.user, p.items, b["orderId"], b["eventId"],
                               b["consistencyToken"]));
                EXPECT_TRUE(fresh)
                    << "a lost key resolved to an order that is already known: " << r;
                ++resolved_[r.status == 202 ? "place retried: accepted"
                                            : "place retried: duplicate"];
            } else {
                EXPECT_TRUE(IsError(r, 422, "insufficient_stock")) << "retrying lost key " << p.key;
                ++resolved_["place retried: insufficient_stock"];
            }
        }
        for (const auto& c : model_.take_lost_cancels()) {
            const auto r = a.command("POST", "/v1/orders/" + c.order_id + "/cancel", c.body, c.key);
            ASSERT_TRUE(r.status == 202 ? IsAccepted(r) : IsDuplicate(r))
                << "retrying lost cancel " << c.key;
            const auto b = r.json_body();
            EXPECT_EQ(b.value("version", 0), 2) << r;
            model_.acked_cancel(c.order_id, c.key, c.body, b["consistencyToken"], b["eventId"]);
            ++resolved_[r.status == 202 ? "cancel retried: accepted" : "cancel retried: duplicate"];
        }
    }

    // Checks every invariant against the restarted server.
    void verify(int cycle) {
        const auto orders = model_.orders();
        std::mutex mu;
        std::vector<std::string> failures;
        std::atomic<int> failure_count{0};
        auto fail = [&](const std::string& m) {
            ++failure_count;
            std::lock_guard lock(mu);
            if (failures.size() < 15) failures.push_back(m);
        };
        parallel_for(server_->port(), orders.size(), 8, [&](std::size_t i, OrdinalApi& a) {
            const auto& o = orders[i];
            try {
                // The key still answers the original acknowledgement.
                const auto d = a.command("POST", "/v1/orders", o.body, o.key);
                if (!IsDuplicate(d)) {
                    fail("re-sent key " + o.key + ": " + d.describe());
                } else {
                    const auto b = d.json_body();
                    if (b["orderId"] != o.order_id || b["eventId"] != o.event_id ||
                        b["version"] != 1) {
                        fail("duplicate of " + o.key +
                             " differs from the acknowledgement: " + d.describe());
                    }
                }
                if (o.cancelled) {
                    const auto dc = a.command("POST", "/v1/orders/" + o.order_id + "/cancel",
                                              o.cancel_body, o.cancel_key);
                    if (!IsDuplicate(dc) || dc.json_body()["eventId"] != o.cancel_event_id ||
                        dc.json_body()["version"] != 2) {
                        fail("re-sent cancel key " + o.cancel_key + ": " + dc.describe());
                    }
                }
                // The acknowledged write is readable with its token, at the acknowledged version.
                const auto v = a.get("/v1/orders/" + o.order_id, o.token, 10000);
                if (v.status != 200) {
                    fail("order " + o.order_id + " not readable: " + v.describe());
                    return;
                }
                const auto b = v.json_body();
                const int want_version = o.cancelled ? 2 : 1;
                const std::string want_status = o.cancelled ? "CANCELLED" : "PLACED";
                if (b["version"] != want_version || b["status"] != want_status ||
                    b["userId"] != o.user) {
                    fail("order " + o.order_id + " reads " + v.body + ", expected version " +
                         std::to_string(want_version) + " " + want_status);
                }
                std::map<std::string, std::int64_t> want, got;
                for (const auto& [sku, qty] : o.items) want[sku] = qty;
                for (const auto& item : b["items"]) got[item["sku"]] = item["qty"];
                if (want != got) fail("order " + o.order_id + " items differ: " + v.body);
            } catch (const std::exception& e) {
                fail(std::string("exception: ") + e.what());
            }
        });
        EXPECT_EQ(failure_count.load(), 0) << "cycle " << cycle;
        for (const auto& f : failures) ADD_FAILURE() << "cycle " << cycle << ": " << f;

        // Each user's listing holds each of the user's orders exactly once, and nothing else
        // (an order for a key the clients never saw acknowledged would be a second effect).
        OrdinalApi a(server_->port(), {}, std::chrono::seconds(15));
        std::map<std::string, std::set<std::string>> expected_by_user;
        for (const auto& o : orders) expected_by_user[o.user].insert(o.order_id);
        for (const auto& user : users_) {
            std::vector<std::string> listed;
            std::string cursor;
            for (int page = 0; page < 1000; ++page) {
                std::string target = "/v1/users/" + user + "/orders?limit=100";
                if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
                const auto r = a.get(target);
                ASSERT_EQ(r.status, 200) << r;
                const auto b = r.json_body();
                for (const auto& o : b["orders"]) listed.push_back(o["orderId"]);
                if (!b.contains("nextCursor") || b["nextCursor"].is_null()) break;
                cursor = b["nextCursor"];
            }
            const std::set<std::string> unique(listed.begin(), listed.end());
            EXPECT_EQ(unique.size(), listed.size())
                << "cycle " << cycle << ": user " << user << " has an order listed twice";
            EXPECT_EQ(unique, expected_by_user[user])
                << "cycle " << cycle << ": user " << user << " listing differs";
        }

        // Reserved stock equals the sum over non-cancelled orders; never below zero.
        std::map<std::string, std::int64_t> reserved;
        for (const auto& o : orders) {
            if (o.cancelled) continue;
            for (const auto& [sku, qty] : o.items) reserved[sku] += qty;
        }
        for (std::size_t i = 0; i < skus_.size(); ++i) {
            const auto view = a.must_read("/v1/products/" + skus_[i], product_tokens_[i]);
            EXPECT_EQ(view["version"], 1) << "orders must not bump the product's version";
            if (i + 1 == skus_.size()) {
                EXPECT_TRUE(view["stock"].is_null())
                    << "unlimited stays unlimited: " << view.dump();
                continue;
            }
            ASSERT_TRUE(view["stock"].is_number_integer()) << view.dump();
            const auto stock = view["stock"].get<std::int64_t>();
            EXPECT_GE(stock, 0) << skus_[i];
            EXPECT_EQ(kInitialStock - stock, reserved[skus_[i]])
                << "cycle " << cycle << ": sku " << skus_[i];
        }
    }

    std::unique_ptr<ScratchDir> data_, logs_;
    std::unique_ptr<ServerProcess> server_;
    std::vector<std::string> users_, skus_, product_tokens_;
    Model model_;
    std::map<std::string, int> resolved_;
};

TEST_F(CrashRecovery, KillNineMidLoadThreeTimes) {
    const auto started = std::chrono::steady_clock::now();
    ASSERT_NO_THROW(server_->start());
    {
        OrdinalApi a(server_->port());
        for (std::size_t i = 0; i < skus_.size(); ++i) {
            const json stock = i + 1 == skus_.size() ? json(nullptr) : json(kInitialStock);
            product_tokens_.push_back(a.create_product(skus_[i], 100, stock).token);
        }
    }
    std::size_t acked_before = 0;
    for (int cycle = 1; cycle <= kCycles; ++cycle) {
        const int run_ms = 800 + static_cast<int>(test_rng()() % 500);
        load_and_kill(run_ms);
        const auto acked_now = model_.orders().size();
        EXPECT_GT(acked_now, acked_before)
            << "cycle " << cycle << ": no order was acknowledged in " << run_ms << " ms";
        acked_before = acked_now;
        ASSERT_NO_THROW(server_->start()) << "restart after SIGKILL, cycle " << cycle;
        resolve_lost();
        if (HasFatalFailure()) return;
        verify(cycle);
        if (HasFatalFailure()) return;
        std::cout << "cycle " << cycle << ": ran " << run_ms << " ms, " << model_.orders().size()
                  << " orders acknowledged so far\n";
    }
    for (const auto& a : model_.anomalies()) ADD_FAILURE() << "during load: " << a;
    EXPECT_EQ(model_.anomaly_count(), 0);
    for (const auto& [what, n] : resolved_) std::cout << "  " << what << ": " << n << "\n";

    // After all that, a graceful stop still works.
    const auto code = server_->terminate();
    ASSERT_TRUE(code.has_value()) << "SIGTERM did not stop the server";
    EXPECT_EQ(*code, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
}

TEST_F(CrashRecovery, KillNineRightAfterAcknowledgementsLosesNothing) {
    // No load running at kill time: the last acknowledgements were just answered.
    ASSERT_NO_THROW(server_->start());
    OrdinalApi a(server_->port());
    const auto sku = skus_[0];
    product_tokens_.push_back(a.create_product(sku, 100, 50).token);
    std::vector<Ack> acks;
    for (int i = 0; i < 20; ++i) acks.push_back(a.create_order(users_[0], {{sku, 1}}));
    server_->kill9();
    ASSERT_NO_THROW(server_->start());
    OrdinalApi b(server_->port());
    for (const auto& ack : acks) {
        const auto r = b.get("/v1/orders/" + ack.order_id, ack.token, 10000);
        ASSERT_EQ(r.status, 200) << r;
        EXPECT_EQ(r.json_body()["version"], 1);
    }
    EXPECT_EQ(b.must_read("/v1/products/" + sku, product_tokens_[0])["stock"], 30);
    EXPECT_EQ(b.must_read("/v1/users/" + users_[0] + "/orders?limit=100")["orders"].size(), 20u);
}

}  // namespace
}  // namespace ordinal::test
