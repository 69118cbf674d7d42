// A projector cut off from its read store mid-batch: the read database is on a cluster of its own
// (host "rdb") and its link is cut under load, past the client's tcp_user_timeout, so the batch
// the projector was writing dies with its connection. Commands keep being accepted (the write
// store is elsewhere); once the link is back every event is applied exactly once, in order.
#include "partition/partition_scenario.h"

namespace ordinal::test {
namespace {

class ProjectorPartition : public PartitionScenario {
  protected:
    ProjectorPartition() : PartitionScenario({"rdb", "node"}) {}

    void SetUp() override {
        ASSERT_NO_THROW(serve("api", "root", "api"));
        api_port_ = processes_["api"]->port();
        ASSERT_NO_THROW(serve("node", "node", "relay,projector"));
    }
};

TEST_F(ProjectorPartition, CutOffFromTheReadStoreMidBatchLosesAndDoublesNothing) {
    run_rounds(
        1,
        [&](int) {
            pause(2000);
            hosts_.cut("rdb");
            const auto cut = Clock::now();
            OrdinalApi a(api_port_, {}, std::chrono::seconds(30));
            // Commands do not need the read store: they are still taken while it is away.
            const auto sku = unique_sku("CUT");
            const auto product = a.create_product(sku, 100, 1000);
            const auto order = a.create_order(random_uuid(), {{sku, 1}});
            measured("read store cut off: a product and an order accepted within",
                     Clock::now() - cut);
            // Past the client's tcp_user_timeout (15 s): the batch in flight fails for good.
            pause(std::max<long long>(0, 20000 - ms_since(cut)));
            hosts_.heal("rdb");
            const auto healed = Clock::now();
            // The order accepted while cut off is read back once the projection caught up.
            int status = 0;
            EXPECT_TRUE(reads_back(a, product, order, status))
                << "the order placed during the cut was never read back; last " << status;
            measured("read store healed: an order placed during the cut readable after",
                     Clock::now() - healed);
        },
        store_args_, 50);
}

}  // namespace
}  // namespace ordinal::test
