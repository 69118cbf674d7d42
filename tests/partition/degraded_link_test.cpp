// The PostgreSQL link degraded, not cut: for 30 s every byte between the service's processes and
// PostgreSQL is 200 ms late in each direction and 5 % of the packets on PostgreSQL's link are
// dropped (both ways). Throughput drops while it lasts; nothing is lost, doubled or moved back, and
// throughput comes back once the link is whole. The api runs in the test's namespace, the relay
// and projector on host "node"; both reach PostgreSQL (host "db") through a delaying relay in the
// test's namespace (support/delay_proxy.h: this kernel has no netem), whose link to "db" is the
// lossy one (netns_hosts.sh lossy).
#include "partition/partition_scenario.h"
#include "support/delay_proxy.h"

namespace ordinal::test {
namespace {

constexpr auto kDegradedFor = std::chrono::seconds(30);
constexpr auto kDelay = std::chrono::milliseconds(200);
constexpr int kLossPercent = 5;

// The port of a libpq URL postgresql://user@ADDRESS:PORT/db.
std::uint16_t url_port(const std::string& url, const std::string& address) {
    const auto at = url.find("@" + address + ":");
    if (at == std::string::npos) throw std::runtime_error("no " + address + " in " + url);
    return static_cast<std::uint16_t>(std::stoi(url.substr(at + address.size() + 2)));
}

std::string through(const std::string& url, const std::string& address, std::uint16_t port,
                    const std::string& relay_address, std::uint16_t relay_port) {
    const std::string from = "@" + address + ":" + std::to_string(port) + "/";
    const auto at = url.find(from);
    if (at == std::string::npos) throw std::runtime_error("no " + from + " in " + url);
    return url.substr(0, at) + "@" + relay_address + ":" + std::to_string(relay_port) + "/" +
           url.substr(at + from.size());
}

class DegradedLink : public PartitionScenario {
  protected:
    DegradedLink() : PartitionScenario({"node"}) {}

    void SetUp() override {
        const std::string db = hosts_.address("db");
        const std::uint16_t port = url_port(write_db_, db);
        proxy_ = std::make_unique<DelayProxy>(db, port);
        const std::string relay = hosts_.address("root");
        served_store_args_ = {"--write-db", through(write_db_, db, port, relay, proxy_->port()),
                              "--read-db", through(read_db_, db, port, relay, proxy_->port())};
        ASSERT_NO_THROW(serve("api", "root", "api"));
        api_port_ = processes_["api"]->port();
        ASSERT_NO_THROW(serve("node", "node", "relay,projector"));
    }
    // Orders acknowledged per second over the next `ms`.
    double throughput_over(int ms) {
        const std::size_t before = orders_acknowledged();
        const auto start = Clock::now();
        pause(ms);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return static_cast<double>(orders_acknowledged() - before) / seconds;
    }

    std::unique_ptr<DelayProxy> proxy_;
};

TEST_F(DegradedLink, PostgresLinkDelayedAndLossyFor30sSlowsButBreaksNothing) {
    double before = 0, during = 0, after = 0;
    run_rounds(
        1,
        [&](int) {
            pause(2000);
            before = throughput_over(5000);
            proxy_->set_delay(kDelay);
            hosts_.lossy("db", kLossPercent);
            const auto degraded = Clock::now();
            during = throughput_over(
                static_cast<int>(std::chrono::duration_cast<Ms>(kDegradedFor).count()));
            hosts_.lossless("db");
            proxy_->set_delay(Ms(0));
            measured("postgres link degraded (200 ms each way, 5 % loss) for",
                     Clock::now() - degraded);
            // Orders placed now are read back with their tokens once the backlog drains.
            OrdinalApi a(api_port_, {}, std::chrono::seconds(30));
            const auto restored = Clock::now();
            const auto sku = unique_sku("AFTER");
            const auto product = a.create_product(sku, 100, 1000);
            const auto order = a.create_order(random_uuid(), {{sku, 1}});
            int status = 0;
            EXPECT_TRUE(reads_back(a, product, order, status))
                << "an order placed after the link was restored was never read back; last "
                << status;
            measured("link restored: an order placed then readable after", Clock::now() - restored);
            after = throughput_over(5000);
        },
        store_args_, 50);
    std::cout << "measured: orders acknowledged per second: before " << before << ", degraded "
              << during << ", after " << after << std::endl;
    EXPECT_LT(during, before) << "a link 200 ms slower each way did not slow the service";
    EXPECT_GT(during, 0) << "nothing got through the degraded link in 30 s";
    EXPECT_GT(after, during) << "throughput did not come back with the link";
}

}  // namespace
}  // namespace ordinal::test
