// A store that fails under the running server: every file write of `ordinal serve` is refused
// (RLIMIT_FSIZE 0 set on the child, as on a full or failing disk), so each SQLite write fails with
// an I/O error whose text names the SQL and the file. Clients get a 5xx whose body says nothing of
// that (src/README.md "Error policy"), and once writes work again the server serves commands
// without a restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "support/http_expect.h"
#include "support/internals.h"
#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

using namespace std::chrono_literals;

// A process writing past its file-size limit is killed by SIGXFSZ unless it ignores the signal;
// the server inherits the disposition from the test through fork and exec.
class IgnoreSigxfsz {
  public:
    IgnoreSigxfsz() { previous_ = ::signal(SIGXFSZ, SIG_IGN); }
    ~IgnoreSigxfsz() { ::signal(SIGXFSZ, previous_); }
    IgnoreSigxfsz(const IgnoreSigxfsz&) = delete;
    IgnoreSigxfsz& operator=(const IgnoreSigxfsz&) = delete;

  private:
    sighandler_t previous_;
};

// Sets the file-size limit of process `pid`; the limit it had.
rlimit set_file_size_limit(pid_t pid, rlim_t limit) {
    rlimit old{};
    const rlimit wanted{limit, RLIM_INFINITY};
    if (::prlimit(pid, RLIMIT_FSIZE, &wanted, &old) != 0) {
        ADD_FAILURE() << "prlimit: " << std::strerror(errno);
    }
    return old;
}

TEST(StoreFailure, SqliteWriteErrorsAnswer5xxWithoutInternalsAndTheServerRecovers) {
    IgnoreSigxfsz ignore;
    ScratchDir dir{"ordinal-store-failure"};
    ServerProcess server(ORDINAL_BINARY, dir.path() + "/data", dir.path());
    server.start();
    OrdinalApi api(server.port(), {}, 20s);
    const std::string sku = unique_sku();
    const auto created = api.create_product(sku, 100, 50);
    api.must_read("/v1/products/" + sku, created.token);
    const std::string user = random_uuid();

    const rlimit before = set_file_size_limit(server.child()->pid(), 0);
    std::vector<HttpResponse> failures;
    for (int i = 0; i < 3; ++i) {
        failures.push_back(api.place_order(order_body(user, "EUR", {{sku, 1}}), random_uuid()));
        failures.push_back(
            api.put_product(unique_sku(), product_body("n", "EUR", 1, 1), random_uuid()));
    }
    for (const auto& r : failures) {
        EXPECT_GE(r.status, 500) << r;
        EXPECT_TRUE(IsErrorStatus(r, r.status));
        EXPECT_TRUE(ShowsNoInternals(r.body, {dir.path(), "write.db", "read.db"}));
    }
    // Whatever else is asked meanwhile tells nothing either.
    for (const auto& r : {api.get("/v1/products/" + sku), api.get("/readyz"),
                          api.get("/v1/admin/status"), api.get("/v1/users/" + user + "/orders")}) {
        EXPECT_TRUE(ShowsNoInternals(r.body, {dir.path(), "write.db", "read.db"})) << r;
    }

    set_file_size_limit(server.child()->pid(), before.rlim_cur);
    const auto restored = std::chrono::steady_clock::now();
    HttpResponse placed;
    do {
        std::this_thread::sleep_for(100ms);
        placed = api.place_order(order_body(user, "EUR", {{sku, 1}}), random_uuid());
    } while (placed.status != 202 && std::chrono::steady_clock::now() - restored < 15s);
    ASSERT_TRUE(IsAccepted(placed)) << "the server did not recover once writes worked again";
    EXPECT_EQ(
        api.must_read("/v1/orders/" + to_ack(placed).order_id, to_ack(placed).token).at("status"),
        "PLACED");
    EXPECT_TRUE(server.terminate().has_value());
}

}  // namespace
}  // namespace ordinal::test
