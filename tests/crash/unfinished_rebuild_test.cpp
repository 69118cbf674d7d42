// A rebuild empties the read model before it replays the log. Killed half-way, it must not leave
// an incomplete model served as if healthy: every process announces it, and the next start of a
// process that can rebuild finishes the job.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/sqlite/sqlite_connection.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"
#include "support/test_uuid.h"

namespace ordinal::test {
namespace {

using json = nlohmann::json;

class UnfinishedRebuild : public ::testing::Test {
  protected:
    // What a rebuild killed after its reset leaves: the marker, and a read model short of rows.
    void cut_rebuild_short() {
        sqlite::ConnectionOptions options;
        options.path = data_.path() + "/read.db";
        options.create = false;
        sqlite::Connection conn = sqlite::Connection::open(options);
        conn.exec("DELETE FROM orders_view");
        conn.exec(
            "INSERT INTO rebuild_state (id, started_at) VALUES (1, '2026-12-06T00:00:00.000Z')");
    }
    static const json* component(const json& ready, const std::string& name) {
        for (const auto& c : ready["components"]) {
            if (c["name"] == name) return &c;
        }
        return nullptr;
    }

    ScratchDir data_{"ordinal-rebuild-data"};
    ScratchDir logs_{"ordinal-rebuild-logs"};
};

TEST_F(UnfinishedRebuild, IsAnnouncedAndFinishedByTheNextStart) {
    std::string order_id;
    {
        ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path());
        server.start();
        OrdinalApi api(server.port());
        const auto sku = unique_sku();
        api.create_product(sku, 100, nullptr);
        const auto placed = api.create_order(random_uuid(), {{sku, 1}});
        ASSERT_EQ(api.get("/v1/orders/" + placed.order_id, placed.token).status, 200);
        order_id = placed.order_id;
        server.terminate();
    }
    cut_rebuild_short();

    // An api-only process cannot rebuild: it serves, and says the model is incomplete.
    {
        ServerProcess api_only(ORDINAL_BINARY, data_.path(), logs_.path(), {"--roles", "api"});
        api_only.start();
        OrdinalApi api(api_only.port());
        const auto ready = api.get("/readyz");
        EXPECT_EQ(ready.status, 200) << ready;
        const json body = ready.json_body();
        EXPECT_EQ(body["status"], "degraded") << ready;
        const json* model = component(body, "read_model");
        ASSERT_NE(model, nullptr) << ready;
        EXPECT_TRUE((*model)["degraded"].get<bool>()) << ready;
        EXPECT_NE((*model)["detail"].get<std::string>().find("has not finished"),
                  std::string::npos);
        EXPECT_EQ(api.get("/v1/orders/" + order_id).status, 404) << "the cut-short model";
        api_only.terminate();
    }

    // A process with the relay and the projector rebuilds before it serves.
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path());
    server.start();
    OrdinalApi api(server.port());
    EXPECT_EQ(api.get("/v1/orders/" + order_id).status, 200);
    const json body = api.get("/readyz").json_body();
    EXPECT_EQ(body["status"], "ready") << body.dump();
    EXPECT_NE(server.log().find("never finished: rebuilding again"), std::string::npos);
}

TEST_F(UnfinishedRebuild, ACompletedRebuildLeavesNoMark) {
    ServerProcess server(ORDINAL_BINARY, data_.path(), logs_.path(), {"--admin-token", "t"});
    server.start();
    OrdinalApi api(server.port(), "t");
    const auto sku = unique_sku();
    api.create_product(sku, 100, nullptr);
    ASSERT_EQ(api.admin_post("/v1/admin/projections/rebuild").status, 200);
    const json body = api.get("/readyz").json_body();
    EXPECT_EQ(body["status"], "ready") << body.dump();
}

}  // namespace
}  // namespace ordinal::test
