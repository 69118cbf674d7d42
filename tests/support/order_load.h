#pragma once
// Load for fault tests, checked from outside: client threads place orders (and cancel some)
// through the HTTP API while the test injects faults. A command that got no answer (connection
// refused or reset, 5xx) is retried later with the same idempotency key, so afterwards every
// command has a definite outcome. check() then asserts the client-side invariants:
//   - every acknowledged order (202 accepted, or 200 duplicate for a retry whose first try got
//     through unanswered) is readable with its token, exactly as acknowledged (status, lines);
//   - retrying any acknowledged key answers "duplicate" with the same stream and version;
//   - each product's stock is its initial stock minus the quantities of live (non-cancelled)
//   orders;
//   - the user's order list holds exactly the acknowledged orders, each once.
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/ordinal_api.h"
#include "support/test_uuid.h"

namespace ordinal::test {

class OrderLoad {
  public:
    // `port` is asked before every request: the API process may move on restart.
    OrderLoad(std::function<std::uint16_t()> port, int threads = 4, int products = 3,
              std::int64_t stock = 1000000)
        : port_(std::move(port)), threads_(threads), stock_(stock) {
        for (int i = 0; i < products; ++i) skus_.push_back(unique_sku("LOAD" + std::to_string(i)));
        for (int i = 0; i < threads; ++i) users_.push_back(random_uuid());
    }
    ~OrderLoad() { stop(); }

    // Creates the products (retrying through faults) and starts the client threads.
    void start() {
        for (const auto& sku : skus_) {
            Command c = new_command(
                "PUT", "/v1/products/" + sku,
                json{{"name", sku}, {"currency", "EUR"}, {"priceMinor", 100}, {"stock", stock_}}
                    .dump());
            settle(c);
            product_tokens_.push_back(c.token);
        }
        stop_ = false;
        for (int t = 0; t < threads_; ++t) pool_.emplace_back([this, t] { run(t); });
    }

    void stop() {
        stop_ = true;
        for (auto& th : pool_) th.join();
        pool_.clear();
    }

    // Gives every command that got no answer its definite outcome (retrying the same key).
    void settle_all() {
        std::vector<Order*> open;
        {
            std::lock_guard lock(mu_);
            for (auto& o : orders_) open.push_back(&o);
        }
        for (Order* o : open) {
            if (!o->place.done) settle(o->place);
            if (o->cancel && !o->cancel->done) settle(*o->cancel);
        }
    }

    std::size_t acknowledged() {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& o : orders_) n += o.place.done && o.place.accepted ? 1 : 0;
        return n;
    }
    std::size_t unanswered() const { return unanswered_.load(); }

    // The client-side invariants (see the top of this file); each broken one is a line.
    std::vector<std::string> check(int wait_ms = 20000) {
        settle_all();
        std::vector<std::string> problems;
        OrdinalApi a(port_(), {}, std::chrono::seconds(30));
        std::map<std::string, std::int64_t> live_qty;
        std::map<std::string, std::set<std::string>> by_user;
        std::lock_guard lock(mu_);
        for (const auto& o : orders_) {
            if (!o.place.accepted) continue;
            const bool cancelled = o.cancel && o.cancel->accepted;
            const std::string& token = cancelled ? o.cancel->token : o.place.token;
            by_user[o.user].insert(o.place.stream);
            const auto r = a.get("/v1/orders/" + o.place.stream, token, wait_ms);
            if (r.status != 200) {
                problems.push_back("order " + o.place.stream +
                                   " not readable with its token: " + r.describe());
                continue;
            }
            const auto body = r.json_body();
            const std::string want = cancelled ? "CANCELLED" : "PLACED";
            if (body["status"] != want)
                problems.push_back("order " + o.place.stream + " is " + body["status"].dump() +
                                   ", acknowledged " + want);
            if (body["items"].size() != 1 || body["items"][0]["sku"] != o.sku ||
                body["items"][0]["qty"] != o.qty) {
                problems.push_back("order " + o.place.stream +
                                   " lines differ: " + body["items"].dump());
            }
            if (!cancelled) live_qty[o.sku] += o.qty;
            // A retry of the acknowledged key is a duplicate of the same outcome.
            const auto again =
                a.command("POST", "/v1/orders", order_body(o.user, "EUR", {{o.sku, o.qty}}).dump(),
                          o.place.key);
            const auto ack = to_ack(again);
            if (again.status != 200 || ack.body.value("status", "") != "duplicate" ||
                ack.order_id != o.place.stream || ack.version != o.place.version) {
                problems.push_back("retry of " + o.place.key +
                                   " did not answer the same duplicate: " + again.describe());
            }
        }
        // Every order's own token was waited for above, so the projection now holds every event
        // those orders produced; the product tokens cover the products' own streams.
        const std::string all = join_tokens(product_tokens_);
        for (const auto& sku : skus_) {
            const auto r = a.get("/v1/products/" + sku, all, wait_ms);
            if (r.status != 200) {
                problems.push_back("product " + sku + ": " + r.describe());
                continue;
            }
            const std::int64_t want = stock_ - live_qty[sku];
            if (r.json_body()["stock"] != want) {
                problems.push_back("product " + sku + " stock " + r.json_body()["stock"].dump() +
                                   ", expected " + std::to_string(want));
            }
        }
        for (const auto& [user, ids] : by_user) {
            std::set<std::string> listed;
            std::size_t rows = 0;
            std::string cursor;
            do {
                const auto r = a.get("/v1/users/" + user + "/orders?limit=100" +
                                         (cursor.empty() ? "" : "&cursor=" + cursor),
                                     all, wait_ms);
                if (r.status != 200) {
                    problems.push_back("user list " + user + ": " + r.describe());
                    break;
                }
                const auto body = r.json_body();
                for (const auto& o : body["orders"]) {
                    listed.insert(o["orderId"].get<std::string>());
                    ++rows;
                }
                cursor = body.contains("nextCursor") && body["nextCursor"].is_string()
                             ? body["nextCursor"].get<std::string>()
                             : "";
            } while (!cursor.empty());
            if (listed != ids || rows != ids.size()) {
                problems.push_back("user " + user + " lists " + std::to_string(rows) + " rows (" +
                                   std::to_string(listed.size()) + " distinct), acknowledged " +
                                   std::to_string(ids.size()));
            }
        }
        return problems;
    }

  private:
    struct Command {
        std::string method, target, body, key;
        bool done = false;      // a definite answer arrived
        bool accepted = false;  // 202 (accepted or duplicate)
        std::string token, stream;
        std::int64_t version = 0;
    };
    struct Order {
        std::string user, sku;
        std::int64_t qty = 0;
        Command place;
        std::optional<Command> cancel;
    };

    static Command new_command(std::string method, std::string target, std::string body) {
        Command c;
        c.method = std::move(method);
        c.target = std::move(target);
        c.body = std::move(body);
        c.key = random_uuid();
        return c;
    }

    // One attempt; false if the outcome is unknown (no answer, 5xx).
    bool attempt(Command& c) {
        try {
            OrdinalApi a(port_(), {}, std::chrono::seconds(10));
            const auto r = a.command(c.method, c.target, c.body, c.key);
            if (r.status >= 500 || r.status == 0) return false;
            c.done = true;
            c.accepted = r.status == 202 ||
                         r.status == 200;  // 200: a duplicate of a command that got through
            if (c.accepted) {
                const auto ack = to_ack(r);
                c.token = ack.token;
                c.stream = ack.stream_id;
                c.version = ack.version;
            }
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }

    void settle(Command& c) {
        for (int i = 0; i < 600 && !attempt(c); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!c.done)
            throw std::runtime_error("no definite answer for " + c.method + " " + c.target +
                                     " in 60 s");
    }

    void run(int t) {
        auto& rng = test_rng();
        for (int n = 0; !stop_.load(); ++n) {
            Order o;
            o.user = users_[static_cast<std::size_t>(t)];
            o.sku = skus_[rng() % skus_.size()];
            o.qty = static_cast<std::int64_t>(1 + rng() % 3);
            o.place = new_command("POST", "/v1/orders",
                                  order_body(o.user, "EUR", {{o.sku, o.qty}}).dump());
            if (!attempt(o.place)) {
                ++unanswered_;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            } else if (o.place.accepted && n % 4 == 3) {
                o.cancel = new_command("POST", "/v1/orders/" + o.place.stream + "/cancel",
                                       json{{"reason", "r"}}.dump());
                if (!attempt(*o.cancel)) ++unanswered_;
            }
            std::lock_guard lock(mu_);
            orders_.push_back(std::move(o));
        }
    }

    std::function<std::uint16_t()> port_;
    int threads_;
    std::int64_t stock_;
    std::vector<std::string> skus_, users_, product_tokens_;
    std::mutex mu_;
    std::deque<Order> orders_;  // stable addresses for settle_all
    std::atomic<bool> stop_{true};
    std::atomic<std::size_t> unanswered_{0};
    std::vector<std::thread> pool_;
};

}  // namespace ordinal::test
