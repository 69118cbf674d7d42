// loadgen — an HTTP/1.1 load generator for Ordinal's API (see bench/README.md).
//
// Many keep-alive connections are spread over a few threads, one io_context per thread, so a
// connection and its statistics are only ever touched by one thread and nothing needs a lock.
//
// Open loop (--rate N > 0): every connection owns a fixed schedule of N/connections sends per
// second. Latency is measured from the *intended* send time, so when the server stalls, the
// requests queued behind the stall are charged for their wait (no coordinated omission). Closed
// loop (--rate 0): each connection sends as soon as its previous response arrived; this finds
// the maximum throughput, and its latency is measured from the actual send.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_ids.h"
#include "latency_histogram.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ordinal::bench::IdGenerator;
using ordinal::bench::LatencyHistogram;

// ---------------------------------------------------------------------------------------------
// Options

enum class Scenario { CreateOrder, ReadYourWrites };

struct Options {
    std::string target = "127.0.0.1:8080";
    std::string scenario_name = "create-order";
    Scenario scenario = Scenario::CreateOrder;
    int connections = 64;
    int threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 4U));
    double rate = 0;  // operations per second over all connections; 0 = closed loop
    double duration_s = 10;
    double warmup_s = 2;
    int products = 100;
    std::string sku_prefix = "bench-";
    std::int64_t stock = 1'000'000'000;
    bool hot_product = false;
    int max_items = 1;  // an order names 1..max_items distinct products (hot product: 1)
    int max_qty = 1;    // quantity of each line, 1..max_qty
    bool key_in_body = false;
    double repeat_fraction = 0;
    int users = 1000;
    std::string admin_token;
    bool skip_setup = false;
    bool setup_only = false;
    double timeout_s = 10;
    int consistency_wait_ms = 2000;
    bool json = false;
    std::string timeline_path;  // per-slot latency of the measured window, for finding stalls
    double timeline_slot_ms = 100;

    std::string host;  // split from target
    std::string port;
};

void split_target(Options& o) {
    std::string t = o.target;
    if (t.rfind("http://", 0) == 0) t.erase(0, 7);
    if (!t.empty() && t.back() == '/') t.pop_back();
    const auto colon = t.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == t.size())
        throw std::invalid_argument("--target must be HOST:PORT, got '" + o.target + "'");
    o.host = t.substr(0, colon);
    o.port = t.substr(colon + 1);
}

// False when the program should end at once (--help, a bad flag), with `exit_code`.
bool parse_options(int argc, char** argv, Options& o, int& exit_code) {
    CLI::App app{"Load generator for Ordinal's HTTP API (open- or closed-loop)"};
    app.add_option("--target", o.target, "Server address HOST:PORT")->capture_default_str();
    app.add_option("--scenario", o.scenario_name, "create-order | read-your-writes")
        ->check(CLI::IsMember({"create-order", "read-your-writes"}))
        ->capture_default_str();
    app.add_option("--connections", o.connections, "Keep-alive connections")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "I/O threads")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--rate", o.rate,
                   "Target operations/s over all connections; 0 = closed loop (max throughput)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--duration", o.duration_s, "Measured seconds")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--warmup", o.warmup_s, "Unmeasured seconds before the measurement")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--products", o.products, "Products created during setup")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--sku-prefix", o.sku_prefix, "SKU prefix of the bench products")
        ->capture_default_str();
    app.add_option("--stock", o.stock, "Stock each product is given during setup")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_flag("--hot-product", o.hot_product,
                 "Every order is one line of the same product (contention)");
    app.add_option("--max-items", o.max_items,
                   "Orders name 1..N distinct products, uniformly (ignored with --hot-product)")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    app.add_option("--max-qty", o.max_qty, "Quantity of each order line, uniformly 1..N")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_flag("--key-in-body", o.key_in_body,
                 "Send the idempotency key as the idempotencyKey body field too (the header "
                 "always carries it)");
    app.add_option("--repeat-fraction", o.repeat_fraction,
                   "Fraction of orders that re-send an earlier key and body")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--users", o.users, "Distinct user ids in all (split over the threads)")
        ->check(CLI::Range(1, 10000000))
        ->capture_default_str();
    app.add_option("--admin-token", o.admin_token, "Bearer token for the admin product PUTs");
    app.add_flag("--skip-setup", o.skip_setup, "Do not PUT the products (they exist already)");
    app.add_flag("--setup-only", o.setup_only, "PUT the products and exit, without load");
    app.add_option("--timeout", o.timeout_s, "Per-request and connect timeout, seconds")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--consistency-wait-ms", o.consistency_wait_ms,
                   "X-Consistency-Wait-Ms sent with read-your-writes GETs")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--timeline", o.timeline_path,
                   "Write one line per --timeline-slot-ms of intended send time (operations, "
                   "max latency, operations over 25 ms) to FILE: when a stall happened, not just "
                   "that one did");
    app.add_option("--timeline-slot-ms", o.timeline_slot_ms, "Slot width of --timeline")
        ->check(CLI::Range(1.0, 60000.0))
        ->capture_default_str();
    app.add_flag("--json", o.json,
                 "Print one JSON result line on stdout (the human report then goes to stderr)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return false;
    }
    o.scenario =
        o.scenario_name == "read-your-writes" ? Scenario::ReadYourWrites : Scenario::CreateOrder;
    o.threads = std::min(o.threads, o.connections);
    split_target(o);
    return true;
}

// ---------------------------------------------------------------------------------------------
// Measurement window and per-thread statistics

struct Window {
    Clock::time_point start;          // load (and warmup) begins
    Clock::time_point measure_start;  // operations intended from here on are measured
    Clock::time_point end;            // nothing is scheduled at or after this

    bool measured(Clock::time_point intended) const {
        return intended >= measure_start && intended < end;
    }
};

// The operations whose intended send fell into one slot of the measured window.
struct TimelineSlot {
    std::uint64_t operations = 0;
    std::uint64_t over_25ms = 0;
    std::uint64_t max_us = 0;
    // read-your-writes: ack -> visible of the slot's operations, against the 20 ms lag goal
    std::uint64_t visible = 0;
    std::uint64_t visible_over_20ms = 0;
    std::uint64_t visible_max_us = 0;
};

struct Stats {
    std::uint64_t sent = 0;       // HTTP requests written
    std::uint64_t completed = 0;  // HTTP responses read, any status
    std::uint64_t ops_ok = 0;     // scenario operations that succeeded end to end
    std::uint64_t non_2xx = 0;
    std::uint64_t overloaded = 0;            // 503 overloaded (backpressure)
    std::uint64_t consistency_timeouts = 0;  // 503 consistency_timeout
    std::uint64_t connect_errors = 0;
    std::uint64_t io_errors = 0;  // reset / EOF on an open connection
    std::uint64_t timeouts = 0;
    std::uint64_t protocol_errors = 0;  // a 2xx ack without what the contract promises
    std::uint64_t missed = 0;           // open loop: due in the window, never sent
    std::uint64_t reconnects = 0;       // connections opened after the first
    std::map<unsigned, std::uint64_t> status;
    LatencyHistogram latency;            // intended send -> response
    LatencyHistogram visible;            // read-your-writes: ack received -> GET answered 2xx
    std::vector<TimelineSlot> timeline;  // empty unless --timeline

    std::uint64_t errors() const {
        return non_2xx + connect_errors + io_errors + timeouts + protocol_errors;
    }

    void merge(const Stats& o) {
        sent += o.sent;
        completed += o.completed;
        ops_ok += o.ops_ok;
        non_2xx += o.non_2xx;
        overloaded += o.overloaded;
        consistency_timeouts += o.consistency_timeouts;
        connect_errors += o.connect_errors;
        io_errors += o.io_errors;
        timeouts += o.timeouts;
        protocol_errors += o.protocol_errors;
        missed += o.missed;
        reconnects += o.reconnects;
        for (const auto& [code, n] : o.status) status[code] += n;
        latency.merge(o.latency);
        visible.merge(o.visible);
        if (timeline.size() < o.timeline.size()) timeline.resize(o.timeline.size());
        for (std::size_t i = 0; i < o.timeline.size(); ++i) {
            timeline[i].operations += o.timeline[i].operations;
            timeline[i].over_25ms += o.timeline[i].over_25ms;
            timeline[i].max_us = std::max(timeline[i].max_us, o.timeline[i].max_us);
            timeline[i].visible += o.timeline[i].visible;
            timeline[i].visible_over_20ms += o.timeline[i].visible_over_20ms;
            timeline[i].visible_max_us =
                std::max(timeline[i].visible_max_us, o.timeline[i].visible_max_us);
        }
    }
};

std::uint64_t micros_between(Clock::time_point from, Clock::time_point to) {
    return to <= from
               ? 0
               : static_cast<std::uint64_t>(
                     std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

// ---------------------------------------------------------------------------------------------
// Requests

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Target {
    std::vector<tcp::endpoint> endpoints;
    std::string host_header;
};

Request make_request(http::verb verb, const std::string& path, const Target& target) {
    Request req{verb, path, 11};
    req.set(http::field::host, target.host_header);
    req.set(http::field::user_agent, "ordinal-loadgen");
    req.keep_alive(true);
    return req;
}

Request make_json_command(http::verb verb, const std::string& path, const std::string& key,
                          const std::string& body, const Target& target) {
    Request req = make_request(verb, path, target);
    req.set(http::field::content_type, "application/json");
    req.set("Idempotency-Key", key);
    req.body() = body;
    req.prepare_payload();
    return req;
}

std::string sku_name(const Options& o, int index) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%05d", index);
    return o.sku_prefix + digits;
}

std::string product_body(int index, std::int64_t stock) {
    return R"({"name":"Bench product )" + std::to_string(index) +
           R"(","currency":"EUR","priceMinor":)" + std::to_string(1000 + index) + R"(,"stock":)" +
           std::to_string(stock) + "}";
}

struct OrderLine {
    const std::string* sku;
    int qty;
};

std::string order_body(const std::string& key, const std::string& user_id,
                       const std::vector<OrderLine>& lines) {
    std::string body = "{";
    if (!key.empty()) body += R"("idempotencyKey":")" + key + R"(",)";
    body += R"("userId":")" + user_id + R"(","currency":"EUR","items":[)";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) body += ',';
        body += R"({"sku":")" + *lines[i].sku + R"(","qty":)" + std::to_string(lines[i].qty) + "}";
    }
    return body + "]}";
}

bool is_2xx(const Response& res) {
    return res.result_int() / 100 == 2;
}

// The value of a top-level string field in a small JSON body, without a JSON library: only used as
// a fallback when an ack lacks its Location header.
std::string json_string_field(const std::string& body, const std::string& name) {
    const auto key = body.find('"' + name + '"');
    if (key == std::string::npos) return {};
    const auto open = body.find('"', body.find(':', key) + 1);
    const auto close = open == std::string::npos ? open : body.find('"', open + 1);
    return close == std::string::npos ? std::string{} : body.substr(open + 1, close - open - 1);
}

// ---------------------------------------------------------------------------------------------
// Setup: create the products synchronously before any load starts.

void put_products(const Options& o, const Target& target, IdGenerator& ids) {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    for (int i = 0; i < o.products; ++i) {
        if (!stream.socket().is_open())
            stream.connect(target.endpoints.begin(), target.endpoints.end());
        Request req = make_json_command(http::verb::put, "/v1/products/" + sku_name(o, i),
                                        ids.uuid_v4(), product_body(i, o.stock), target);
        if (!o.admin_token.empty()) req.set(http::field::authorization, "Bearer " + o.admin_token);
        http::write(stream, req);
        Response res;
        http::read(stream, buffer, res);
        if (!is_2xx(res))
            throw std::runtime_error("setup: PUT " + std::string(req.target()) + " answered " +
                                     std::to_string(res.result_int()) + ": " + res.body());
        if (!res.keep_alive()) stream.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Per-thread state

// A command that was accepted, kept so that --repeat-fraction can re-send it verbatim.
struct Command {
    std::string key;
    std::string body;
    bool repeat = false;
};

class Worker {
  public:
    Worker(const Options& o, const std::vector<std::string>& skus)
        : options_(o), skus_(skus), ids_(ordinal::bench::fresh_seed()) {
        const int users = std::max(1, o.users / std::max(1, o.threads));
        users_.reserve(static_cast<std::size_t>(users));
        for (int i = 0; i < users; ++i) users_.push_back(ids_.uuid_v4());
    }

    asio::io_context& io() { return io_; }
    Stats& stats() { return stats_; }

    // A fresh order command, or with probability --repeat-fraction a verbatim earlier one.
    Command next_order() {
        if (!accepted_.empty() && options_.repeat_fraction > 0 &&
            uniform() < options_.repeat_fraction) {
            Command again = accepted_[ids_.next() % accepted_.size()];
            again.repeat = true;
            return again;
        }
        std::string key = ids_.uuid_v4();
        const std::string& user = users_[ids_.next() % users_.size()];
        return Command{key, order_body(options_.key_in_body ? key : std::string{}, user, lines()),
                       false};
    }

    // Remembers an accepted command in a bounded ring, overwriting the oldest.
    void remember(const Command& c) {
        if (options_.repeat_fraction <= 0) return;
        if (accepted_.size() < kRetryRing) {
            accepted_.push_back(c);
        } else {
            accepted_[ring_pos_++ % kRetryRing] = c;
        }
    }

  private:
    static constexpr std::size_t kRetryRing = 4096;

    // Distinct products: a repeated sku would be a different (merged or refused) command.
    std::vector<OrderLine> lines() {
        std::vector<OrderLine> out;
        const std::size_t n =
            options_.hot_product
                ? 1
                : 1 + ids_.next() % std::min<std::size_t>(
                                        static_cast<std::size_t>(options_.max_items), skus_.size());
        while (out.size() < n) {
            const std::string* sku =
                options_.hot_product ? &skus_.front() : &skus_[ids_.next() % skus_.size()];
            if (std::any_of(out.begin(), out.end(),
                            [&](const OrderLine& l) { return l.sku == sku; }))
                continue;
            out.push_back(OrderLine{
                sku,
                1 + static_cast<int>(ids_.next() % static_cast<std::uint64_t>(options_.max_qty))});
        }
        return out;
    }

    double uniform() { return static_cast<double>(ids_.next() >> 11) * 0x1.0p-53; }

    const Options& options_;
    const std::vector<std::string>& skus_;
    asio::io_context io_{1};  // one thread runs it: no locking inside asio
    Stats stats_;
    IdGenerator ids_;
    std::vector<std::string> users_;
    std::vector<Command> accepted_;
    std::size_t ring_pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Schedules

// Open loop: slot k is due at first + k * interval whatever happened to the earlier slots, so a
// slow response delays the later sends and the delay shows in their latency. Closed loop: the
// next operation is due the moment the previous one finished.
class Schedule {
  public:
    static Schedule closed_loop(Clock::time_point first) {
        Schedule s;
        s.first_ = first;
        return s;
    }
    static Schedule open_loop(Clock::time_point first, double interval_ns) {
        Schedule s;
        s.open_ = true;
        s.first_ = first;
        s.interval_ns_ = interval_ns;
        return s;
    }

    Clock::time_point next(Clock::time_point now) {
        if (!open_) return std::max(now, first_);
        return slot(k_++);
    }

    // Slots from the one just returned by next() up to the window's end that would have been
    // measured: the backlog a connection still had when time ran out.
    std::uint64_t backlog(const Window& w) const {
        if (!open_ || k_ == 0) return 0;
        std::uint64_t n = 0;
        for (std::uint64_t k = k_ - 1;; ++k) {
            const auto due = slot(k);
            if (due >= w.end) break;
            if (w.measured(due)) ++n;
        }
        return n;
    }

  private:
    Clock::time_point slot(std::uint64_t k) const {
        return first_ +
               Clock::duration(static_cast<Clock::rep>(interval_ns_ * static_cast<double>(k)));
    }

    bool open_ = false;
    Clock::time_point first_{};
    double interval_ns_ = 0;
    std::uint64_t k_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Connections

struct Reply {
    beast::error_code ec;
    Response res;
};

class Connection {
  public:
    Connection(Worker& worker, const Options& o, const Target& target, const Window& window,
               Schedule schedule)
        : worker_(worker),
          stats_(worker.stats()),
          options_(o),
          target_(target),
          window_(window),
          schedule_(schedule),
          stream_(worker.io()),
          timer_(worker.io()),
          timeout_(std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(o.timeout_s))) {}

    asio::awaitable<void> run() {
        for (;;) {
            const auto intended = schedule_.next(Clock::now());
            if (intended >= window_.end) break;
            if (Clock::now() >= window_.end) {  // time is up while still behind schedule
                stats_.missed += schedule_.backlog(window_);
                break;
            }
            co_await sleep_until(intended);
            const bool measured = window_.measured(intended);
            if (!co_await ensure_connected(measured)) continue;
            if (options_.scenario == Scenario::ReadYourWrites) {
                co_await read_your_writes(intended, measured);
            } else {
                co_await create_order(intended, measured);
            }
        }
        drop_connection();
    }

  private:
    asio::awaitable<void> sleep_until(Clock::time_point t) {
        if (t <= Clock::now()) co_return;
        beast::error_code ec;
        timer_.expires_at(t);
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    // Connects if needed. A failure is counted and followed by a short pause, so a dead server
    // is not hammered in a tight loop; the operation due now is then lost (and counted).
    asio::awaitable<bool> ensure_connected(bool measured) {
        if (stream_.socket().is_open()) co_return true;
        beast::error_code ec;
        stream_.expires_after(timeout_);
        co_await stream_.async_connect(target_.endpoints,
                                       asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            stream_.socket().set_option(tcp::no_delay(true), ec);
            if (connected_before_ && measured) ++stats_.reconnects;
            connected_before_ = true;
            co_return true;
        }
        if (measured) ++stats_.connect_errors;
        drop_connection();
        co_await sleep_until(Clock::now() + std::chrono::milliseconds(50));
        co_return false;
    }

    // One request/response on the keep-alive connection. Transport failures are counted and
    // close the connection; the next operation reconnects.
    asio::awaitable<Reply> exchange(Request& req, bool measured) {
        Reply reply;
        if (measured) ++stats_.sent;
        stream_.expires_after(timeout_);
        co_await http::async_write(stream_, req,
                                   asio::redirect_error(asio::use_awaitable, reply.ec));
        if (!reply.ec)
            co_await http::async_read(stream_, buffer_, reply.res,
                                      asio::redirect_error(asio::use_awaitable, reply.ec));
        if (reply.ec) {
            if (measured) count_transport_error(reply.ec);
            drop_connection();
            co_return reply;
        }
        if (measured) count_status(reply.res);
        if (!reply.res.keep_alive()) drop_connection();
        co_return reply;
    }

    asio::awaitable<void> create_order(Clock::time_point intended, bool measured) {
        const Command cmd = worker_.next_order();
        Request req = make_json_command(http::verb::post, "/v1/orders", cmd.key, cmd.body, target_);
        const Reply reply = co_await exchange(req, measured);
        if (reply.ec) co_return;
        if (measured) record_latency(intended, Clock::now());
        if (!is_2xx(reply.res)) co_return;
        if (measured) ++stats_.ops_ok;
        if (!cmd.repeat) worker_.remember(cmd);
    }

    // Places an order, then reads it back with the ack's consistency token: the time from the
    // ack to the answer is how long the projection took to make the write visible (plus one RTT).
    asio::awaitable<void> read_your_writes(Clock::time_point intended, bool measured) {
        const Command cmd = worker_.next_order();
        Request post =
            make_json_command(http::verb::post, "/v1/orders", cmd.key, cmd.body, target_);
        const Reply ack = co_await exchange(post, measured);
        if (ack.ec) co_return;
        const auto acked = Clock::now();
        if (measured) record_latency(intended, acked);
        if (!is_2xx(ack.res)) co_return;

        const std::string location = order_location(ack.res);
        const std::string token{ack.res["X-Consistency-Token"]};
        if (location.empty() || token.empty()) {
            if (measured) ++stats_.protocol_errors;
            co_return;
        }
        Request get = make_request(http::verb::get, location, target_);
        get.set("X-Consistency-Token", token);
        get.set("X-Consistency-Wait-Ms", std::to_string(options_.consistency_wait_ms));
        const Reply read = co_await exchange(get, measured);
        if (read.ec || !is_2xx(read.res)) co_return;
        if (measured) {
            const std::uint64_t us = micros_between(acked, Clock::now());
            stats_.visible.record(us);
            ++stats_.ops_ok;
            if (TimelineSlot* s = timeline_slot(intended)) {
                ++s->visible;
                if (us > 20'000) ++s->visible_over_20ms;
                s->visible_max_us = std::max(s->visible_max_us, us);
            }
        }
    }

    void record_latency(Clock::time_point intended, Clock::time_point answered) {
        const std::uint64_t us = micros_between(intended, answered);
        stats_.latency.record(us);
        TimelineSlot* s = timeline_slot(intended);
        if (!s) return;
        ++s->operations;
        if (us > 25'000) ++s->over_25ms;
        s->max_us = std::max(s->max_us, us);
    }

    TimelineSlot* timeline_slot(Clock::time_point intended) {
        if (options_.timeline_path.empty()) return nullptr;
        const auto slot = static_cast<std::size_t>(
            std::chrono::duration<double, std::milli>(intended - window_.measure_start).count() /
            options_.timeline_slot_ms);
        if (stats_.timeline.size() <= slot) stats_.timeline.resize(slot + 1);
        return &stats_.timeline[slot];
    }

    static std::string order_location(const Response& res) {
        std::string location{res[http::field::location]};
        if (!location.empty()) return location;
        const std::string id = json_string_field(res.body(), "orderId");
        return id.empty() ? std::string{} : "/v1/orders/" + id;
    }

    void count_transport_error(const beast::error_code& ec) {
        if (ec == beast::error::timeout) {
            ++stats_.timeouts;
        } else {
            ++stats_.io_errors;
        }
    }

    void count_status(const Response& res) {
        ++stats_.completed;
        ++stats_.status[res.result_int()];
        if (is_2xx(res)) return;
        ++stats_.non_2xx;
        if (res.result_int() != 503) return;
        // Both kinds of 503 carry an error code; only the overload one means the server shed load.
        if (res.body().find("consistency_timeout") != std::string::npos) {
            ++stats_.consistency_timeouts;
        } else {
            ++stats_.overloaded;
        }
    }

    // stream_.close() (not just the socket's) also cancels Beast's timeout timer, which would
    // otherwise keep the io_context running until the last --timeout expired.
    void drop_connection() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
    }

    Worker& worker_;
    Stats& stats_;
    const Options& options_;
    const Target& target_;
    const Window& window_;
    Schedule schedule_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    asio::steady_timer timer_;
    Clock::duration timeout_;
    bool connected_before_ = false;
};

// ---------------------------------------------------------------------------------------------
// Running

Target resolve(const Options& o) {
    asio::io_context io;
    tcp::resolver resolver{io};
    Target t;
    for (const auto& entry : resolver.resolve(o.host, o.port))
        t.endpoints.push_back(entry.endpoint());
    t.host_header = o.host + ":" + o.port;
    return t;
}

Window make_window(const Options& o) {
    using std::chrono::duration;
    using std::chrono::duration_cast;
    Window w;
    // A short lead time lets every thread start before the first slot is due.
    w.start = Clock::now() + std::chrono::milliseconds(50);
    w.measure_start = w.start + duration_cast<Clock::duration>(duration<double>(o.warmup_s));
    w.end = w.measure_start + duration_cast<Clock::duration>(duration<double>(o.duration_s));
    return w;
}

// Connection i's schedule: its share of the rate, with starts staggered across connections so
// the sends are spread evenly instead of arriving in bursts of --connections.
Schedule make_schedule(const Options& o, const Window& w, int i) {
    if (o.rate <= 0) return Schedule::closed_loop(w.start);
    const double interval_ns = 1e9 * o.connections / o.rate;
    const auto offset = Clock::duration(static_cast<Clock::rep>(interval_ns * i / o.connections));
    return Schedule::open_loop(w.start + offset, interval_ns);
}

void write_timeline(const Options& o, const Window& w, const Stats& s);

Stats run_load(const Options& o, const Target& target, const std::vector<std::string>& skus) {
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<Worker>(o, skus));

    const Window window = make_window(o);
    std::vector<std::unique_ptr<Connection>> connections;
    for (int i = 0; i < o.connections; ++i) {
        Worker& w = *workers[static_cast<std::size_t>(i % o.threads)];
        connections.push_back(
            std::make_unique<Connection>(w, o, target, window, make_schedule(o, window, i)));
        asio::co_spawn(w.io(), connections.back()->run(), [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);  // a loadgen bug: let it surface, not vanish
        });
    }

    std::vector<std::thread> threads;
    for (auto& w : workers) {
        threads.emplace_back([&io = w->io()] {
            try {
                io.run();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "loadgen: connection failed: %s\n", e.what());
                std::_Exit(2);
            }
        });
    }
    for (auto& t : threads) t.join();

    Stats total;
    for (auto& w : workers) total.merge(w->stats());
    if (!o.timeline_path.empty()) write_timeline(o, window, total);
    return total;
}

// ---------------------------------------------------------------------------------------------
// Reporting

std::string latency_json(const LatencyHistogram& h) {
    std::ostringstream out;
    out << R"({"count":)" << h.count() << R"(,"p50":)" << h.percentile(0.50) << R"(,"p90":)"
        << h.percentile(0.90) << R"(,"p99":)" << h.percentile(0.99) << R"(,"p999":)"
        << h.percentile(0.999) << R"(,"max":)" << h.max() << R"(,"mean":)"
        << static_cast<std::uint64_t>(h.mean()) << "}";
    return out.str();
}

std::string latency_text(const LatencyHistogram& h) {
    std::ostringstream out;
    out << "p50 " << h.percentile(0.50) << "  p90 " << h.percentile(0.90) << "  p99 "
        << h.percentile(0.99) << "  p99.9 " << h.percentile(0.999) << "  max " << h.max()
        << "  mean " << static_cast<std::uint64_t>(h.mean()) << "  (n=" << h.count() << ")";
    return out.str();
}

std::string json_report(const Options& o, const Stats& s) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(2);  // rates: never exponent notation
    out << R"({"tool":"loadgen","scenario":")" << o.scenario_name << R"(","mode":")"
        << (o.rate > 0 ? "open" : "closed") << R"(","target_rate":)" << o.rate
        << R"(,"connections":)" << o.connections << R"(,"threads":)" << o.threads
        << R"(,"products":)" << o.products << R"(,"max_items":)"
        << (o.hot_product ? 1 : o.max_items) << R"(,"max_qty":)" << o.max_qty
        << R"(,"key_in_body":)" << (o.key_in_body ? "true" : "false") << R"(,"users":)" << o.users
        << R"(,"hot_product":)" << (o.hot_product ? "true" : "false") << R"(,"warmup_s":)"
        << o.warmup_s << R"(,"duration_s":)" << o.duration_s << R"(,"sent":)" << s.sent
        << R"(,"completed":)" << s.completed << R"(,"ok":)" << s.ops_ok << R"(,"missed":)"
        << s.missed << R"(,"errors":)" << s.errors() << R"(,"non_2xx":)" << s.non_2xx
        << R"(,"overloaded_503":)" << s.overloaded << R"(,"consistency_timeout_503":)"
        << s.consistency_timeouts << R"(,"connect_errors":)" << s.connect_errors
        << R"(,"io_errors":)" << s.io_errors << R"(,"timeouts":)" << s.timeouts
        << R"(,"protocol_errors":)" << s.protocol_errors << R"(,"reconnects":)" << s.reconnects
        << R"(,"status":{)";
    const char* sep = "";
    for (const auto& [code, n] : s.status) {
        out << sep << '"' << code << R"(":)" << n;
        sep = ",";
    }
    out << R"(},"throughput_rps":)" << static_cast<double>(s.completed) / o.duration_s
        << R"(,"ok_per_s":)" << static_cast<double>(s.ops_ok) / o.duration_s << R"(,"latency_us":)"
        << latency_json(s.latency) << R"(,"visible_us":)" << latency_json(s.visible) << "}";
    return out.str();
}

// Wall-clock times make the slots comparable with other tools' logs (vmstat, the server's log).
void write_timeline(const Options& o, const Window& w, const Stats& s) {
    std::ofstream out(o.timeline_path);
    if (!out) throw std::runtime_error("cannot write --timeline " + o.timeline_path);
    const auto wall_start = std::chrono::system_clock::now() -
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                Clock::now() - w.measure_start);
    out << "# slot_start_utc_ms\toperations\tmax_us\tover_25ms\tvisible\tvisible_max_us\t"
           "visible_over_20ms\n";
    for (std::size_t i = 0; i < s.timeline.size(); ++i) {
        const auto at =
            wall_start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::duration<double, std::milli>(o.timeline_slot_ms *
                                                                       static_cast<double>(i)));
        out << std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count()
            << '\t' << s.timeline[i].operations << '\t' << s.timeline[i].max_us << '\t'
            << s.timeline[i].over_25ms << '\t' << s.timeline[i].visible << '\t'
            << s.timeline[i].visible_max_us << '\t' << s.timeline[i].visible_over_20ms << '\n';
    }
}

void human_report(std::ostream& out, const Options& o, const Stats& s) {
    out << std::fixed << std::setprecision(1);
    out << "scenario     " << o.scenario_name << ", "
        << (o.rate > 0 ? "open loop at " + std::to_string(static_cast<long long>(o.rate)) + " ops/s"
                       : std::string("closed loop"))
        << ", " << o.connections << " connections on " << o.threads << " threads, warmup "
        << o.warmup_s << " s, measured " << o.duration_s << " s\n";
    out << "requests     sent " << s.sent << ", completed " << s.completed << ", ok operations "
        << s.ops_ok;
    if (o.rate > 0) out << ", missed " << s.missed;
    out << "\nstatus      ";
    for (const auto& [code, n] : s.status) out << " " << code << ":" << n;
    out << "\nerrors       " << s.errors() << " (non-2xx " << s.non_2xx
        << ", of which 503 overloaded " << s.overloaded << " and 503 consistency_timeout "
        << s.consistency_timeouts << "; connect " << s.connect_errors << ", io " << s.io_errors
        << ", timeouts " << s.timeouts << ", protocol " << s.protocol_errors << "; reconnects "
        << s.reconnects << ")\n";
    out << "throughput   " << static_cast<double>(s.completed) / o.duration_s << " responses/s, "
        << static_cast<double>(s.ops_ok) / o.duration_s << " ok operations/s\n";
    out << "latency µs   " << latency_text(s.latency)
        << (o.rate > 0 ? "   [from intended send]\n" : "\n");
    if (o.scenario == Scenario::ReadYourWrites)
        out << "visible µs   " << latency_text(s.visible) << "   [ack -> read reflects it]\n";
    if (o.rate > 0 && s.missed > 0)
        out << "WARNING      the target rate was not sustained: " << s.missed
            << " scheduled operations were never sent\n";
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    int exit_code = 0;
    try {
        if (!parse_options(argc, argv, o, exit_code)) return exit_code;
        const Target target = resolve(o);

        std::vector<std::string> skus;
        for (int i = 0; i < o.products; ++i) skus.push_back(sku_name(o, i));
        if (!o.skip_setup) {
            IdGenerator ids{ordinal::bench::fresh_seed()};
            put_products(o, target, ids);
        }
        if (o.setup_only) return 0;

        const Stats stats = run_load(o, target, skus);
        human_report(o.json ? std::cerr : std::cout, o, stats);
        if (o.json) std::cout << json_report(o, stats) << std::endl;
        return stats.completed == 0 ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "loadgen: " << e.what() << "\n";
        return 2;
    }
}
