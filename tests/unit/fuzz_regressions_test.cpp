// Regression tests for what the fuzzers (fuzz/, `make fuzz`) found. Every file under
// fuzz/regressions/<target>/ is fed through the same parser as that fuzz target, with the input
// layout the target documents, and must be handled without an exception or a 500. Findings that
// break a more specific property have their own test below, named in the file's README entry
// (fuzz/README.md, "Findings").
//
// adapters/http compiles Boost.Beast with these two; this file links with it, so it must agree.
#define BOOST_BEAST_USE_STD_STRING_VIEW
#define BOOST_ASIO_NO_DEPRECATED

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "../../fuzz/http_request_bytes.h"
#include "adapters/http/request_handler.h"
#include "codec/command_json.h"
#include "codec/event_json.h"
#include "codec/order_cursor.h"
#include "core/command_service.h"
#include "core/consistency_gate.h"
#include "domain/base64url.h"
#include "domain/consistency_token.h"
#include "support/fake_stores.h"
#include "support/local_admin.h"

namespace ordinal {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

fs::path regressions_dir() {
    return fs::path(ORDINAL_SOURCE_DIR) / "fuzz" / "regressions";
}

std::vector<fs::path> inputs_of(const std::string& target) {
    std::vector<fs::path> out;
    const fs::path dir = regressions_dir() / target;
    if (!fs::is_directory(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view take_line(std::string_view& in) {
    const auto nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

// ---- fakes behind the request handler
// ------------------------------------------------------------

class AcceptingWriteStore final : public test_support::EmptyWriteStore {
  public:
    void submit(CommandRequest request, Done done) override {
        Acknowledgement ack;
        ack.event_id = "0190f0a4-0000-7000-8000-000000000001";
        ack.stream = test_support::stream_of(request.command);
        ack.version = 1;
        ack.consistency_token = encode_consistency_token({{ack.stream, 1}});
        done(ack);
    }
};

// Every order and product exists, and every stream has been projected up to version 5.
class ReachedReadStore final : public test_support::EmptyReadStore {
  public:
    static constexpr std::int64_t kVersion = 5;

    Expected<std::optional<Order>, StoreError> get_order(const std::string& id) override {
        Order o;
        o.id = id;
        o.user_id = "5d0c1a7e-2b3f-4c6d-9e8f-a1b2c3d4e5f6";
        o.currency = "EUR";
        o.lines = {{"A", 1, 100}};
        o.total_minor = 100;
        o.version = kVersion;
        o.created_at = "2026-01-02T03:04:05.678Z";
        o.updated_at = o.created_at;
        return std::optional<Order>{o};
    }
    Expected<std::optional<ProductView>, StoreError> get_product(const std::string& sku) override {
        return std::optional<ProductView>{ProductView{sku, "Tea", "EUR", 450, 7, kVersion}};
    }
    Expected<std::int64_t, StoreError> stream_version(const StreamKey&) override {
        return kVersion;
    }
};

class FixedIds final : public IdGenerator {
  public:
    std::string new_uuid_v7() override { return "0190f0a4-6b3c-7d2e-8f10-112233445566"; }
};

// The handler as fuzz_http_request builds it: blocking jobs run inline.
class Handler {
  public:
    explicit Handler(bool with_gate) {
        ServiceApi api;
        api.commands = &commands_;
        api.reads = &reads_;
        api.gate = with_gate ? &gate_ : nullptr;
        api.metrics = &metrics_;
        api.admin_token = "s3cret";
        api.status = [] { return StatusReport{}; };
        api.admin = &admin_.desk();
        handler_ = std::make_unique<RequestHandler>(
            api, [](std::function<void()> job) { job(); }, R"({"openapi":"3.0.3"})");
    }

    // The answer, wherever it comes from; status 0 if none came within 5 s.
    HttpAnswer call(const HttpRequest& request) {
        auto promise = std::make_shared<std::promise<HttpAnswer>>();
        auto answers = std::make_shared<std::atomic<int>>(0);
        auto future = promise->get_future();
        handler_->handle(request, [promise, answers](HttpAnswer a) {
            if (answers->fetch_add(1) == 0) promise->set_value(std::move(a));
        });
        if (future.wait_for(5s) != std::future_status::ready) return HttpAnswer{0, "", "", {}};
        HttpAnswer a = future.get();
        EXPECT_EQ(answers->load(), 1) << "answered more than once: " << request.target;
        return a;
    }

  private:
    AcceptingWriteStore store_;
    test_support::NoCache cache_;
    MetricsRegistry metrics_;
    FixedIds ids_;
    CommandService commands_{store_, cache_, metrics_, ids_, CommandServiceOptions{}};
    ReachedReadStore reads_;
    ConsistencyGate gate_{reads_, 0ms};
    test_support::LocalAdmin admin_{
        reads_, metrics_, [] { return Expected<RebuildReport, StoreError>(RebuildReport{}); }};
    std::unique_ptr<RequestHandler> handler_;
};

// ---- every reproducer, through its parser -------------------------------------------------------

// fuzz_command_json: byte 0 selects the kind ((b & 7) % 5) and whether a key header line follows
// (bit 0x10); then the path parameter line, the header line, the body.
TEST(FuzzRegressions, CommandJsonInputs) {
    for (const auto& path : inputs_of("fuzz_command_json")) {
        SCOPED_TRACE(path.string());
        const std::string bytes = read_bytes(path);
        if (bytes.empty()) continue;
        std::string_view in(bytes);
        const auto selector = static_cast<unsigned char>(in[0]);
        in.remove_prefix(1);
        CommandInput input;
        input.kind = static_cast<CommandKind>((selector & 7) % 5);
        input.target = take_line(in);
        if (selector & 0x10) input.idempotency_key_header = take_line(in);
        input.body = in;
        EXPECT_NO_THROW({
            const auto r = read_command(input);
            if (!r) {
                EXPECT_FALSE(r.error().details.empty());
            }
        });
    }
}

// fuzz_event_json: 'D' type line + data, 'L' order lines, else the envelope.
TEST(FuzzRegressions, EventJsonInputs) {
    for (const auto& path : inputs_of("fuzz_event_json")) {
        SCOPED_TRACE(path.string());
        const std::string bytes = read_bytes(path);
        if (bytes.empty()) continue;
        std::string_view in(bytes);
        const char selector = in[0];
        in.remove_prefix(1);
        EXPECT_NO_THROW({
            if (selector == 'D') {
                const std::string_view type = take_line(in);
                if (auto d = decode_event_data(type, in)) {
                    EXPECT_TRUE(decode_event_data(type, encode_event_data(*d)).has_value());
                }
            } else if (selector == 'L') {
                if (auto l = decode_order_lines(in)) {
                    EXPECT_TRUE(decode_order_lines(encode_order_lines(*l)).has_value());
                }
            } else if (auto e = decode_event_envelope(in)) {
                EXPECT_TRUE(decode_event_envelope(encode_event_envelope(*e)).has_value());
            }
        });
    }
}

// fuzz_consistency_token: the header value, and "ct1." + base64url(bytes).
TEST(FuzzRegressions, ConsistencyTokenInputs) {
    for (const auto& path : inputs_of("fuzz_consistency_token")) {
        SCOPED_TRACE(path.string());
        const std::string bytes = read_bytes(path);
        for (const std::string& header : {bytes, "ct1." + base64url(bytes)}) {
            EXPECT_NO_THROW({
                if (auto v = parse_consistency_tokens(header)) {
                    EXPECT_EQ(parse_consistency_tokens(encode_consistency_token(*v)), v);
                }
            });
        }
    }
}

// fuzz_order_cursor: the cursor text, and base64url(bytes).
TEST(FuzzRegressions, OrderCursorInputs) {
    for (const auto& path : inputs_of("fuzz_order_cursor")) {
        SCOPED_TRACE(path.string());
        const std::string bytes = read_bytes(path);
        for (const std::string& text : {bytes, base64url(bytes)}) {
            EXPECT_NO_THROW({
                if (auto c = decode_order_cursor(text)) {
                    EXPECT_EQ(encode_order_cursor(*c), text);
                }
            });
        }
    }
}

// fuzz_http_request: raw HTTP/1.1 bytes, up to four pipelined requests.
TEST(FuzzRegressions, HttpRequestInputs) {
    for (const auto& path : inputs_of("fuzz_http_request")) {
        SCOPED_TRACE(path.string());
        Handler ungated(false);
        for (const HttpRequest& request : fuzz::parse_http_requests(read_bytes(path), 4)) {
            const HttpAnswer a = ungated.call(request);
            EXPECT_NE(a.status, 0u) << "no answer to " << request.target;
            EXPECT_NE(a.status, 500u) << request.target << ": " << a.body;
        }
    }
}

// ---- findings with a property of their own
// -------------------------------------------------------

// fuzz/regressions/fuzz_http_request/gate-zero-wait-race: GET /v1/orders/{id} with a token the
// read model has already reached and X-Consistency-Wait-Ms: 0. The read model is there, so the
// answer is 200, as it is without a gate in the process. Found by fuzz_http_request comparing the
// gated and ungated handler: ConsistencyGate::wait registers the waiter (deadline now + 0) and
// wakes the timer thread before it reads the store, so the timer thread can expire it first and the
// query gets 503 consistency_timeout, nondeterministically (40-65 % of the calls here).
TEST(FuzzRegressions, GateAnswersReachedTokenWithZeroWait) {
    const auto requests = fuzz::parse_http_requests(
        read_bytes(regressions_dir() / "fuzz_http_request" / "gate-zero-wait-race"), 4);
    ASSERT_EQ(requests.size(), 1u);
    const HttpRequest& request = requests[0];
    ASSERT_EQ(request.consistency_wait_ms, "0");
    ASSERT_TRUE(request.consistency_token.has_value());

    Handler ungated(false);
    const HttpAnswer expected = ungated.call(request);
    ASSERT_EQ(expected.status, 200u) << expected.body;

    Handler gated(true);
    int timeouts = 0;
    constexpr int kTries = 200;
    for (int i = 0; i < kTries; ++i) {
        const HttpAnswer a = gated.call(request);
        if (a.status != 200u || a.body != expected.body) ++timeouts;
    }
    EXPECT_EQ(timeouts, 0) << timeouts << " of " << kTries
                           << " queries for an already reached token were not answered 200";
}

}  // namespace
}  // namespace ordinal
