#pragma once
// Thin client of Ordinal's HTTP API v1 (docs/design.md), for black-box tests: request builders that
// add the idempotency key and the admin bearer, and throwing conveniences for preconditions
// ("this must be accepted"), whose exceptions gtest reports as failures with the response.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.h"
#include "support/test_uuid.h"

namespace ordinal::test {

using Items = std::vector<std::pair<std::string, std::int64_t>>;  // sku, qty

inline json product_body(const std::string& name, const std::string& currency,
                         std::int64_t price_minor, const json& stock) {
    return json{
        {"name", name}, {"currency", currency}, {"priceMinor", price_minor}, {"stock", stock}};
}

inline json order_body(const std::string& user_id, const std::string& currency,
                       const Items& items) {
    json arr = json::array();
    for (const auto& [sku, qty] : items) arr.push_back(json{{"sku", sku}, {"qty", qty}});
    return json{{"userId", user_id}, {"currency", currency}, {"items", arr}};
}

// A command acknowledgement, as answered.
struct Ack {
    int status = 0;
    json body;
    std::string key;
    std::string token;  // X-Consistency-Token header
    std::string location;
    std::string event_id;
    std::string stream_id;
    std::string order_id;
    std::int64_t version = 0;
};

inline Ack to_ack(const HttpResponse& r, const std::string& key = {}) {
    Ack a;
    a.status = r.status;
    a.key = key;
    a.body = r.json_body();
    a.token = r.header("X-Consistency-Token").value_or("");
    a.location = r.header("Location").value_or("");
    if (a.body.is_object()) {
        if (a.body.contains("eventId") && a.body["eventId"].is_string())
            a.event_id = a.body["eventId"];
        if (a.body.contains("streamId") && a.body["streamId"].is_string())
            a.stream_id = a.body["streamId"];
        if (a.body.contains("orderId") && a.body["orderId"].is_string())
            a.order_id = a.body["orderId"];
        if (a.body.contains("version") && a.body["version"].is_number_integer())
            a.version = a.body["version"];
    }
    return a;
}

class OrdinalApi {
  public:
    explicit OrdinalApi(std::uint16_t port, std::string admin_token = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(15))
        : http_(port, "127.0.0.1", timeout), admin_token_(std::move(admin_token)) {}

    HttpClient& http() { return http_; }
    std::uint16_t port() const { return http_.port(); }
    const std::string& admin_token() const { return admin_token_; }

    Headers admin_headers(Headers extra = {}) const {
        if (!admin_token_.empty()) extra.emplace_back("Authorization", "Bearer " + admin_token_);
        return extra;
    }

    // A command with the key in the Idempotency-Key header (none if `key` is empty).
    HttpResponse command(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& key, Headers extra = {}) {
        if (!key.empty()) extra.emplace_back("Idempotency-Key", key);
        return http_.request(method, target, body, extra);
    }

    HttpResponse put_product(const std::string& sku, const json& body, const std::string& key,
                             Headers extra = {}) {
        return command("PUT", "/v1/products/" + url_encode(sku), body.dump(), key,
                       admin_headers(std::move(extra)));
    }
    HttpResponse place_order(const json& body, const std::string& key, Headers extra = {}) {
        return command("POST", "/v1/orders", body.dump(), key, std::move(extra));
    }
    HttpResponse pay(const std::string& order_id, const json& body, const std::string& key,
                     Headers extra = {}) {
        return command("POST", "/v1/orders/" + order_id + "/pay", body.dump(), key,
                       std::move(extra));
    }
    HttpResponse ship(const std::string& order_id, const json& body, const std::string& key,
                      Headers extra = {}) {
        return command("POST", "/v1/orders/" + order_id + "/ship", body.dump(), key,
                       std::move(extra));
    }
    HttpResponse cancel(const std::string& order_id, const json& body, const std::string& key,
                        Headers extra = {}) {
        return command("POST", "/v1/orders/" + order_id + "/cancel", body.dump(), key,
                       std::move(extra));
    }

    // A query, optionally behind the consistency gate.
    HttpResponse get(const std::string& target, const std::string& token = {},
                     std::optional<int> wait_ms = {}, Headers extra = {}) {
        if (!token.empty()) extra.emplace_back("X-Consistency-Token", token);
        if (wait_ms) extra.emplace_back("X-Consistency-Wait-Ms", std::to_string(*wait_ms));
        return http_.request("GET", target, {}, extra);
    }
    HttpResponse admin_get(const std::string& target) {
        return http_.request("GET", target, {}, admin_headers());
    }
    HttpResponse admin_post(const std::string& target, const std::string& body = "{}") {
        return http_.request("POST", target, body, admin_headers());
    }

    // ---- throwing conveniences (preconditions of a test) ----

    static Ack must(const HttpResponse& r, int status, const std::string& what,
                    const std::string& key = {}) {
        if (r.status != status) {
            throw std::runtime_error(what + ": expected " + std::to_string(status) + ", got " +
                                     r.describe());
        }
        return to_ack(r, key);
    }

    Ack create_product(const std::string& sku, std::int64_t price_minor, const json& stock,
                       const std::string& currency = "EUR",
                       const std::string& name = "Test product") {
        const std::string key = random_uuid();
        return must(put_product(sku, product_body(name, currency, price_minor, stock), key), 202,
                    "PUT /v1/products/" + sku, key);
    }

    Ack create_order(const std::string& user_id, const Items& items,
                     const std::string& currency = "EUR") {
        const std::string key = random_uuid();
        return must(place_order(order_body(user_id, currency, items), key), 202, "POST /v1/orders",
                    key);
    }

    Ack must_command(const std::string& verb, const std::string& order_id, const json& body) {
        const std::string key = random_uuid();
        return must(command("POST", "/v1/orders/" + order_id + "/" + verb, body.dump(), key), 202,
                    "POST /v1/orders/" + order_id + "/" + verb, key);
    }

    // GET behind the gate; must answer 200 with JSON.
    json must_read(const std::string& target, const std::string& token = {}) {
        const auto r = get(target, token);
        if (r.status != 200)
            throw std::runtime_error("GET " + target + ": expected 200, got " + r.describe());
        return r.json_body();
    }

  private:
    HttpClient http_;
    std::string admin_token_;
};

// `s` written `n` times: long and many-code-point field values.
inline std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

// Joins tokens for a merged X-Consistency-Token header.
inline std::string join_tokens(const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) {
        if (t.empty()) continue;
        if (!out.empty()) out += ",";
        out += t;
    }
    return out;
}

// Polls `probe` until it returns true or the deadline passes.
template <class F>
bool eventually(F&& probe, std::chrono::milliseconds within = std::chrono::seconds(10),
                std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (true) {
        if (probe()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(step);
    }
}

}  // namespace ordinal::test
