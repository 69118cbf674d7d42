// The console's static files (names, types, no way out of the console folder) and the two admin
// views it reads: the stream view and the token check.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>

#include "adapters/http/request_handler.h"
#include "adapters/http/static_files.h"
#include "codec/batch_streams.h"
#include "domain/consistency_token.h"
#include "support/fake_stores.h"
#include "support/temp_dir.h"

namespace ordinal {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kOrder = "0190a0b0-c0d0-7e00-8f00-000000000001";

class VersionedReadStore final : public test_support::EmptyReadStore {
  public:
    Expected<std::int64_t, StoreError> stream_version(const StreamKey& s) override {
        const auto it = versions.find(s);
        return it == versions.end() ? 0 : it->second;
    }
    Expected<std::vector<StreamApplyTime>, StoreError> stream_apply_times(
        const StreamKey&, std::int64_t since) override {
        applied_since = since;
        return applied;
    }
    std::map<StreamKey, std::int64_t> versions;
    std::vector<StreamApplyTime> applied;
    std::int64_t applied_since = 0;
};

void write_file(const std::filesystem::path& path, const std::string& content) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << content;
}

class ConsoleEndpoints : public ::testing::Test {
  protected:
    ConsoleEndpoints() {
        // Outside the folder, of a type the console serves: only the name rules keep it out.
        write_file(root.path() / "secret.js", "outside");
        write_file(root.path() / "write.db", "outside");
        write_file(folder / "index.html", "<html>console</html>");
        write_file(folder / "app.js", "console.log(1)");
        write_file(folder / "app.css", "body{}");
        write_file(folder / "notes.txt", "no such type");
        write_file(folder / ".hidden.js", "hidden");
        write_file(folder / "assets" / "logo.svg", "<svg/>");
        build();
    }

    void build() {
        ServiceApi api;
        api.reads = &reads;
        api.admin_token = "s3cret";
        api.console_dir = console_dir;
        api.stream_log = [this](const StreamKey& s, std::size_t limit) {
            last_limit = limit;
            return Expected<std::vector<StreamLogEntry>, StoreError>(
                s.id == kOrder ? log : std::vector<StreamLogEntry>{});
        };
        handler = std::make_unique<RequestHandler>(
            api, [](std::function<void()> job) { job(); }, std::string_view{});
    }

    HttpAnswer call(const std::string& method, const std::string& target, bool admin = false) {
        HttpRequest r;
        r.method = method;
        r.target = target;
        if (admin) r.authorization = "Bearer s3cret";
        std::promise<HttpAnswer> promise;
        auto future = promise.get_future();
        handler->handle(std::move(r),
                        [&promise](HttpAnswer a) { promise.set_value(std::move(a)); });
        if (future.wait_for(5s) != std::future_status::ready) {
            ADD_FAILURE() << "no answer";
            return {};
        }
        return future.get();
    }

    test_support::TempDir root{"ordinal-console-test"};
    std::filesystem::path folder = root.path() / "console";
    std::string console_dir = folder.string();
    VersionedReadStore reads;
    std::vector<StreamLogEntry> log{
        {11, "e-1", 1, "OrderPlaced", "2026-12-06T00:00:00.000Z", 1765000000000, true,
         1765000000250},
        {15, "e-2", 2, "OrderPaid", "2026-12-06T00:00:01.000Z", 1765000001000, false}};
    std::size_t last_limit = 0;
    std::unique_ptr<RequestHandler> handler;
};

TEST(StaticFiles, NamesInsideTheConsoleFolderOnly) {
    EXPECT_EQ(console_file_name(""), "index.html");
    EXPECT_EQ(console_file_name("assets/"), "assets/index.html");
    EXPECT_EQ(console_file_name("app.js"), "app.js");
    EXPECT_EQ(console_file_name("assets/logo.svg"), "assets/logo.svg");
    for (const char* bad :
         {"..", "../write.db", "assets/../../write.db", ".", "./app.js", "a//b.js", "/etc/passwd",
          "a\\b.js", ".hidden.js", "app.js%00", "app js", "..%2fwrite.db", "assets/..", "~/x.js"}) {
        EXPECT_FALSE(console_file_name(bad)) << bad;
    }
    EXPECT_FALSE(console_file_name(std::string("app.js\0.html", 12)));
    EXPECT_FALSE(console_file_name(std::string(300, 'a') + ".js"));
}

TEST(StaticFiles, ContentTypesByExtension) {
    EXPECT_EQ(static_content_type("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(static_content_type("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(static_content_type("app.css"), "text/css; charset=utf-8");
    EXPECT_EQ(static_content_type("logo.svg"), "image/svg+xml");
    EXPECT_EQ(static_content_type("shot.png"), "image/png");
    EXPECT_FALSE(static_content_type("notes.txt"));
    EXPECT_FALSE(static_content_type("write.db"));
    EXPECT_FALSE(static_content_type("js"));
}

TEST_F(ConsoleEndpoints, ServesTheFilesWithTheirTypesAndNoToken) {
    for (const char* target : {"/console", "/console/", "/console/index.html"}) {
        const auto a = call("GET", target);
        EXPECT_EQ(a.status, 200u) << target;
        EXPECT_EQ(a.body, "<html>console</html>") << target;
        EXPECT_EQ(a.content_type, "text/html; charset=utf-8") << target;
    }
    const auto js = call("GET", "/console/app.js");
    EXPECT_EQ(js.status, 200u);
    EXPECT_EQ(js.body, "console.log(1)");
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(call("GET", "/console/app.css").content_type, "text/css; charset=utf-8");
    EXPECT_EQ(call("GET", "/console/assets/logo.svg").body, "<svg/>");
    EXPECT_EQ(call("GET", "/console/app.js?v=2").status, 200u);
    const auto post = call("POST", "/console/app.js");
    EXPECT_EQ(post.status, 405u);
}

TEST_F(ConsoleEndpoints, NothingOutsideTheFolderCanBeNamed) {
    for (const char* target :
         {"/console/../secret.js", "/console/..%2fsecret.js", "/console/%2e%2e/secret.js",
          "/console/%2E%2E%2Fwrite.db", "/console/assets/../../write.db", "/console/.hidden.js",
          "/console//etc/passwd", "/console/%2fetc%2fpasswd", "/console/notes.txt",
          "/console/missing.js", "/console/assets", "/console/app.js%00.html", "/console/%zz.js",
          "/console/..\\secret.js", "/console/assets/%2E%2E/%2E%2E/secret.js"}) {
        const auto a = call("GET", target);
        EXPECT_EQ(a.status, 404u) << target;
        EXPECT_EQ(a.body.find("outside"), std::string::npos) << target;
    }
}

TEST_F(ConsoleEndpoints, ALinkOutOfTheFolderIsNotFollowed) {
    std::filesystem::create_symlink(root.path() / "secret.js", folder / "leak.js");
    std::filesystem::create_directory_symlink(root.path(), folder / "up");
    write_file(root.path() / "x.js", "outside");
    for (const char* target : {"/console/leak.js", "/console/up/x.js"}) {
        const auto a = call("GET", target);
        EXPECT_EQ(a.status, 404u) << target;
        EXPECT_EQ(a.body.find("outside"), std::string::npos) << target;
    }
}

TEST_F(ConsoleEndpoints, NoFolderNoConsole) {
    console_dir.clear();
    build();
    EXPECT_EQ(call("GET", "/console/").status, 404u);
}

TEST_F(ConsoleEndpoints, StreamViewShowsWriteAndReadVersions) {
    reads.versions[{StreamType::Order, kOrder}] = 1;
    // A batch left the order at version 1; a later one (a version not applied yet as far as the
    // read version goes) is not shown against version 2.
    reads.applied = {{1, 1765000000400}, {2, 1765000002000}};
    const std::string target = std::string("/v1/admin/streams/order/") + kOrder;
    EXPECT_EQ(call("GET", target).status, 401u);
    const auto a = call("GET", target, true);
    ASSERT_EQ(a.status, 200u) << a.body;
    EXPECT_EQ(last_limit, 1000u);
    const json j = json::parse(a.body);
    EXPECT_EQ(j["stream"], std::string("order/") + kOrder);
    EXPECT_EQ(j["writeVersion"], 2);
    EXPECT_EQ(j["readVersion"], 1);
    ASSERT_EQ(j["events"].size(), 2u);
    EXPECT_EQ(j["events"][0], (json{{"seq", 11},
                                    {"eventId", "e-1"},
                                    {"version", 1},
                                    {"type", "OrderPlaced"},
                                    {"occurredAt", "2026-12-06T00:00:00.000Z"},
                                    {"committedAt", "2025-12-06T05:46:40.000Z"},
                                    {"published", true},
                                    {"publishedAt", "2025-12-06T05:46:40.250Z"},
                                    {"applied", true},
                                    {"appliedAt", "2025-12-06T05:46:40.400Z"}}));
    EXPECT_EQ(j["events"][1]["published"], false);
    EXPECT_TRUE(j["events"][1]["publishedAt"].is_null());
    EXPECT_EQ(j["events"][1]["applied"], false);
    EXPECT_TRUE(j["events"][1]["appliedAt"].is_null());
    // Batches looked for from the oldest event's commit, less a minute of clock skew.
    EXPECT_EQ(reads.applied_since, 1765000000000 - 60000);
    // Upper-case ids are canonicalised like every order path.
    std::string upper = kOrder;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(call("GET", "/v1/admin/streams/order/" + upper, true).status, 200u);

    for (const std::string bad :
         {"/v1/admin/streams/order/not-a-uuid", "/v1/admin/streams/invoice/x",
          "/v1/admin/streams/order/0190a0b0-c0d0-7e00-8f00-000000000002",
          "/v1/admin/streams/product/bad%20sku", "/v1/admin/streams/order"}) {
        EXPECT_EQ(call("GET", bad, true).status, 404u) << bad;
    }
}

TEST_F(ConsoleEndpoints, TokenCheckSaysWhetherAReadWouldPassNow) {
    const StreamKey order{StreamType::Order, kOrder};
    const StreamKey product{StreamType::Product, "SKU-1"};
    const std::string token = encode_consistency_token({{order, 2}, {product, 1}});
    const std::string target = "/v1/admin/consistency?token=" + token;
    EXPECT_EQ(call("GET", target).status, 401u);
    reads.versions[order] = 1;
    reads.versions[product] = 3;
    auto j = json::parse(call("GET", target, true).body);
    EXPECT_EQ(j["passes"], false);
    ASSERT_EQ(j["streams"].size(), 2u);
    EXPECT_EQ(
        j["streams"][0],
        (json{{"stream", "product/SKU-1"}, {"wanted", 1}, {"readVersion", 3}, {"passes", true}}));
    EXPECT_EQ(j["streams"][1], (json{{"stream", std::string("order/") + kOrder},
                                     {"wanted", 2},
                                     {"readVersion", 1},
                                     {"passes", false}}));
    reads.versions[order] = 2;
    EXPECT_EQ(json::parse(call("GET", target, true).body)["passes"], true);
    for (const char* bad : {"/v1/admin/consistency",
                            "/v1/admin/consistency?token=", "/v1/admin/consistency?token=ct1.%%%",
                            "/v1/admin/consistency?token=x"}) {
        const auto a = call("GET", bad, true);
        EXPECT_EQ(a.status, 400u) << bad;
        EXPECT_EQ(json::parse(a.body)["details"][0]["field"], "token") << bad;
    }
}

// The stream view's publish and apply times come from batch rows (ports/batch_times.h): a
// version is applied by the first batch that left its stream at it or past it.
TEST(BatchTimes, AVersionIsAppliedByTheFirstBatchThatReachedIt) {
    const std::vector<StreamApplyTime> batches{{2, 100}, {3, 200}, {5, 300}};
    EXPECT_EQ(applied_time_of(1, batches), 100);
    EXPECT_EQ(applied_time_of(2, batches), 100);
    EXPECT_EQ(applied_time_of(3, batches), 200);
    EXPECT_EQ(applied_time_of(4, batches), 300);
    EXPECT_EQ(applied_time_of(6, batches), std::nullopt);
    EXPECT_EQ(applied_time_of(1, {}), std::nullopt);
}

TEST(BatchTimes, AProjectionBatchNamesEachStreamItAdvancedWithItsVersion) {
    const StreamKey order{StreamType::Order, kOrder};
    const StreamKey sku1{StreamType::Product, "SKU-1"};
    const StreamKey sku10{StreamType::Product, "SKU-10"};
    const std::vector<std::pair<StreamKey, std::int64_t>> advanced{
        {order, 3}, {sku10, 2}, {sku1, 17}};
    const std::string text = encode_batch_streams(advanced);
    EXPECT_EQ(batch_stream_version(text, order), 3);
    EXPECT_EQ(batch_stream_version(text, sku1), 17);  // not SKU-10's line, which it prefixes
    EXPECT_EQ(batch_stream_version(text, sku10), 2);
    EXPECT_EQ(batch_stream_version(text, StreamKey{StreamType::Product, "SKU"}), std::nullopt);
    EXPECT_EQ(batch_stream_version(text, StreamKey{StreamType::Order, "SKU-1"}), std::nullopt);
    EXPECT_NE(text.find(batch_streams_needle(sku1)), std::string::npos);
    EXPECT_EQ(batch_stream_version(encode_batch_streams({}), order), std::nullopt);
}

}  // namespace
}  // namespace ordinal
