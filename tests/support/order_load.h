#pragma once
// Load for fault tests, checked from outside: client threads place orders and take some of them
// further (pay; pay and ship; cancel; pay and cancel) through the HTTP API while the test injects
// faults. Follow-ups name the version they expect. A command that got no answer (connection
// refused or reset, 5xx) is retried later with the same idempotency key, so afterwards every
// command has a definite outcome. check() then asserts the client-side invariants:
//   - no command was rejected (the load only sends commands that must succeed), and none was
//     answered with a 5xx other than 503 (an unexpected failure of the service);
//   - every acknowledged order (202 accepted, or 200 duplicate for a retry whose first try got
//     through unanswered) is readable with its last token, exactly as acknowledged (status,
//     version, lines), and each command of it acknowledged the version after the one before;
//   - retrying any acknowledged key answers "duplicate" with the same stream and version;
//   - each product's stock is its initial stock minus the quantities of live (non-cancelled)
//   orders;
//   - the user's order list holds exactly the acknowledged orders, each once.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
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

    // Each client thread waits this long after every order: a paced load, for tests whose work
    // grows with the log (a rebuild replays all of it). Set before start().
    void pace(std::chrono::milliseconds between_orders) { pace_ = between_orders; }

    // Creates the products (retrying through faults) and starts the client threads.
    void start() {
        for (const auto& sku : skus_) {
            Command c = new_command(
                "PUT", "/v1/products/" + sku,
                json{{"name", sku}, {"currency", "EUR"}, {"priceMinor", kPrice}, {"stock", stock_}}
                    .dump());
            Client client;
            settle(client, c);
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
        Client client;
        for (Order* o : open) {
            for (auto& c : o->commands) {
                if (!c.done) settle(client, c);
            }
        }
    }

    // Orders acknowledged (placed).
    std::size_t acknowledged() {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& o : orders_) n += o.commands.front().accepted ? 1 : 0;
        return n;
    }
    std::size_t unanswered() const { return unanswered_.load(); }

    // What the load met, for the test's log: commands acknowledged by kind, then the answers of
    // every attempt by status (0: no answer at all).
    std::string summary() {
        std::map<std::string, int> acked;
        {
            std::lock_guard lock(mu_);
            for (const auto& o : orders_) {
                for (const auto& c : o.commands) acked[c.verb] += c.accepted ? 1 : 0;
            }
        }
        std::ostringstream out;
        out << "acknowledged:";
        for (const auto& [verb, n] : acked) out << ' ' << verb << '=' << n;
        out << "; answers:";
        std::lock_guard lock(status_mu_);
        for (const auto& [status, n] : statuses_) out << ' ' << status << '=' << n;
        return out.str();
    }

    // The client-side invariants (see the top of this file); each broken one is a line. Reads wait
    // for the projection (retried while they answer 503) for up to `settle` in all: after a
    // fault it may need a consumer-group rebalance to catch up.
    std::vector<std::string> check(std::chrono::seconds settle = std::chrono::seconds(60)) {
        settle_all();
        const auto deadline = std::chrono::steady_clock::now() + settle;
        std::vector<std::string> problems;
        std::map<std::string, std::int64_t> live_qty;
        std::map<std::string, std::set<std::string>> by_user;
        std::vector<const Order*> placed;
        {
            std::lock_guard lock(mu_);
            for (const auto& o : orders_) {
                for (const auto& c : o.commands) {
                    if (c.done && !c.accepted)
                        problems.push_back(c.method + " " + c.target +
                                           " was rejected: " + c.rejection);
                }
                if (!o.commands.front().accepted) continue;
                placed.push_back(&o);
                by_user[o.user].insert(o.commands.front().stream);
                if (final_status(o) != "CANCELLED") live_qty[o.sku] += o.qty;
            }
        }
        {
            // A command the service could not take now is 503; any other 5xx is a failure it
            // did not expect (an exception answers `500 internal`).
            std::lock_guard lock(status_mu_);
            for (const auto& [status, n] : statuses_) {
                if (status >= 500 && status != 503)
                    problems.push_back(std::to_string(n) + " command answers were " +
                                       std::to_string(status));
            }
        }
        // Orders are checked on a few connections at once: thousands of them, a few requests each.
        std::mutex problems_mu;
        std::atomic<std::size_t> next{0};
        std::vector<std::thread> checkers;
        for (int t = 0; t < 4; ++t) {
            checkers.emplace_back([&] {
                OrdinalApi a(port_(), {}, std::chrono::seconds(30));
                for (std::size_t i = next++; i < placed.size(); i = next++) {
                    std::vector<std::string> found = check_order(a, *placed[i], deadline);
                    std::lock_guard lock(problems_mu);
                    problems.insert(problems.end(), found.begin(), found.end());
                }
            });
        }
        for (auto& th : checkers) th.join();

        // Every order's own token was waited for above, so the projection now holds every event
        // those orders produced; the product tokens cover the products' own streams.
        OrdinalApi a(port_(), {}, std::chrono::seconds(30));
        const std::string all = join_tokens(product_tokens_);
        for (const auto& sku : skus_) {
            const auto r = read_settled(a, "/v1/products/" + sku, all, deadline);
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
                const auto r =
                    read_settled(a,
                                 "/v1/users/" + user + "/orders?limit=100" +
                                     (cursor.empty() ? "" : "&cursor=" + url_encode(cursor)),
                                 all, deadline);
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
    static constexpr std::int64_t kPrice = 100;

    struct Command {
        std::string verb;  // place, pay, ship, cancel, product
        std::string method, target, body, key;
        bool done = false;      // a definite answer arrived
        bool accepted = false;  // 202, or 200 duplicate
        std::string rejection;  // the answer, when done and not accepted
        std::string token, stream;
        std::int64_t version = 0;
    };
    // commands[0] places the order; each later one was sent only once the one before it was
    // acknowledged, and names that acknowledgement's version.
    struct Order {
        std::string user, sku;
        std::int64_t qty = 0;
        std::vector<Command> commands;
    };

    // A kept-alive connection of one client thread, opened again after a failure or when the
    // API moved (fresh connections per request would pile up sockets in TIME_WAIT).
    struct Client {
        std::unique_ptr<OrdinalApi> api;
        std::uint16_t port = 0;
    };

    static Command new_command(std::string method, std::string target, std::string body,
                               std::string verb = "product") {
        Command c;
        c.verb = std::move(verb);
        c.method = std::move(method);
        c.target = std::move(target);
        c.body = std::move(body);
        c.key = random_uuid();
        return c;
    }

    // The next command of an order whose last command was acknowledged.
    static Command follow_up(const Order& o, const std::string& verb) {
        const Command& last = o.commands.back();
        json body{{"expectedVersion", last.version}};
        if (verb == "pay") {
            body["paymentRef"] = "pay-" + last.key;
            body["amountMinor"] = kPrice * o.qty;
        } else if (verb == "cancel") {
            body["reason"] = "changed my mind";
        }
        return new_command("POST", "/v1/orders/" + o.commands.front().stream + "/" + verb,
                           body.dump(), verb);
    }

    // Where an order goes after it is placed: a mix of every transition.
    static std::vector<std::string> plan(int n) {
        switch (n % 6) {
            case 1:
                return {"pay"};
            case 2:
                return {"pay", "ship"};
            case 3:
                return {"cancel"};
            case 4:
                return {"pay", "cancel"};
            default:
                return {};
        }
    }

    static std::string final_status(const Order& o) {
        std::string verb = "place";
        for (const auto& c : o.commands) {
            if (c.accepted) verb = c.verb;
        }
        if (verb == "pay") return "PAID";
        if (verb == "ship") return "SHIPPED";
        if (verb == "cancel") return "CANCELLED";
        return "PLACED";
    }

    void count_status(int status) {
        std::lock_guard lock(status_mu_);
        ++statuses_[status];
    }

    // One attempt; false if the outcome is unknown (no answer, 5xx).
    bool attempt(Client& client, Command& c) {
        int status = 0;
        try {
            const std::uint16_t port = port_();
            if (!client.api || client.port != port) {
                client.api = std::make_unique<OrdinalApi>(port, "", std::chrono::seconds(10));
                client.port = port;
            }
            const auto r = client.api->command(c.method, c.target, c.body, c.key);
            status = r.status;
            count_status(status);
            if (r.status >= 500 || r.status == 0) return false;
            c.done = true;
            c.accepted = r.status == 202 ||
                         r.status == 200;  // 200: a duplicate of a command that got through
            if (c.accepted) {
                const auto ack = to_ack(r);
                c.token = ack.token;
                c.stream = ack.stream_id;
                c.version = ack.version;
            } else {
                c.rejection = r.describe();
            }
            return true;
        } catch (const std::exception&) {
            if (status == 0) count_status(0);
            client.api.reset();  // the connection's state is unknown: start afresh
            return false;
        }
    }

    void settle(Client& client, Command& c) {
        for (int i = 0; i < 600 && !attempt(client, c); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!c.done)
            throw std::runtime_error("no definite answer for " + c.method + " " + c.target +
                                     " in 60 s");
    }

    // A read behind the gate (each try waits the longest the gate allows), tried again while it
    // answers 503 until `deadline`.
    static HttpResponse read_settled(OrdinalApi& a, const std::string& target,
                                     const std::string& token,
                                     std::chrono::steady_clock::time_point deadline) {
        while (true) {
            auto r = a.get(target, token, 10000);
            if (r.status != 503 || std::chrono::steady_clock::now() >= deadline) return r;
        }
    }

    // One order, checked through `a`: its commands' versions, its read view, its keys' repeats.
    std::vector<std::string> check_order(OrdinalApi& a, const Order& o,
                                         std::chrono::steady_clock::time_point deadline) {
        std::vector<std::string> problems;
        const std::string& id = o.commands.front().stream;
        const Command* last = nullptr;
        for (const auto& c : o.commands) {
            if (!c.accepted) break;
            const std::int64_t want = last ? last->version + 1 : 1;
            if (c.stream != id || c.version != want) {
                problems.push_back(c.verb + " of order " + id + " acknowledged " + c.stream +
                                   " version " + std::to_string(c.version) + ", expected " +
                                   std::to_string(want));
            }
            last = &c;
        }
        const auto r = read_settled(a, "/v1/orders/" + id, last->token, deadline);
        if (r.status != 200) {
            problems.push_back("order " + id + " not readable with its token: " + r.describe());
        } else {
            const auto body = r.json_body();
            const std::string want = final_status(o);
            if (body["status"] != want || body["version"] != last->version) {
                problems.push_back("order " + id + " is " + body["status"].dump() + " version " +
                                   body["version"].dump() + ", acknowledged " + want + " version " +
                                   std::to_string(last->version));
            }
            if (body["items"].size() != 1 || body["items"][0]["sku"] != o.sku ||
                body["items"][0]["qty"] != o.qty) {
                problems.push_back("order " + id + " lines differ: " + body["items"].dump());
            }
        }
        // A retry of an acknowledged key is a duplicate of the same outcome, even though the
        // stream has moved on since.
        for (const auto& c : o.commands) {
            if (!c.accepted) break;
            const auto again = a.command(c.method, c.target, c.body, c.key);
            const auto ack = to_ack(again);
            if (again.status != 200 || ack.body.value("status", "") != "duplicate" ||
                ack.stream_id != c.stream || ack.version != c.version) {
                problems.push_back("retry of " + c.verb + " " + c.key +
                                   " did not answer the same duplicate: " + again.describe());
            }
        }
        return problems;
    }

    void run(int t) {
        Client client;
        for (int n = 0; !stop_.load(); ++n) {
            Order o;
            o.user = users_[static_cast<std::size_t>(t)];
            o.sku = skus_[test_rng()() % skus_.size()];
            o.qty = static_cast<std::int64_t>(1 + test_rng()() % 3);
            o.commands.push_back(new_command(
                "POST", "/v1/orders", order_body(o.user, "EUR", {{o.sku, o.qty}}).dump(), "place"));
            const auto steps = plan(n);
            for (std::size_t step = 0;; ++step) {
                if (!attempt(client, o.commands.back())) {
                    ++unanswered_;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                    break;
                }
                if (!o.commands.back().accepted || step == steps.size()) break;
                o.commands.push_back(follow_up(o, steps[step]));
            }
            {
                std::lock_guard lock(mu_);
                orders_.push_back(std::move(o));
            }
            if (pace_.count() > 0) std::this_thread::sleep_for(pace_);
        }
    }

    std::function<std::uint16_t()> port_;
    int threads_;
    std::int64_t stock_;
    std::chrono::milliseconds pace_{0};
    std::vector<std::string> skus_, users_, product_tokens_;
    std::mutex mu_;
    std::deque<Order> orders_;  // stable addresses for settle_all
    std::atomic<bool> stop_{true};
    std::atomic<std::size_t> unanswered_{0};
    std::mutex status_mu_;
    std::map<int, int> statuses_;
    std::vector<std::thread> pool_;
};

}  // namespace ordinal::test
