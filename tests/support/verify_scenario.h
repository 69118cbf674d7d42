#pragma once
// `ordinal verify` end to end, written once for every store: a real server fills the stores
// through the HTTP API and stops; a test plants drift with SQL straight into a store and runs the
// `ordinal verify` binary. A VerifyBackend says which stores (flags) and how to run SQL on them;
// each tier instantiates the suites of tests/crash/verify_drift_test.cpp with its backend, e.g.
//   INSTANTIATE_TEST_SUITE_P(Sqlite, VerifyDrift, ::testing::Values(sqlite_verify_backend()),
//                            verify_backend_name);
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/ordinal_api.h"
#include "support/process_runner.h"
#include "support/scratch_dir.h"
#include "support/verify_run.h"

namespace ordinal::test {

class VerifyBackend {
  public:
    virtual ~VerifyBackend() = default;
    // The flags that name the stores, for `serve` and `verify` alike.
    virtual std::vector<std::string> store_args() const = 0;
    // Runs one SQL statement on the write store (`write_side`) or the read store.
    virtual void exec(bool write_side, const std::string& sql) = 0;
};

struct VerifyBackendFactory {
    std::string name;
    std::function<std::unique_ptr<VerifyBackend>(const std::string& scratch_dir)> make;
};

inline void PrintTo(const VerifyBackendFactory& f, std::ostream* os) {
    *os << f.name;
}

inline std::string verify_backend_name(const ::testing::TestParamInfo<VerifyBackendFactory>& info) {
    return info.param.name;
}

// A server over the backend's stores, on a free port.
class VerifyTestBase : public ::testing::TestWithParam<VerifyBackendFactory> {
  protected:
    void SetUp() override {
        backend_ = GetParam().make(scratch_.path());
        ASSERT_TRUE(backend_);
        server_ = std::make_unique<ServerProcess>(ORDINAL_BINARY, "", logs_.path(),
                                                  backend_->store_args());
    }

    VerifyRun verify(std::vector<std::string> extra = {}) {
        return run_verify(backend_->store_args(),
                          logs_.path() + "/verify-" + std::to_string(++runs_) + ".log",
                          std::move(extra));
    }

    ScratchDir scratch_{"ordinal-verify"};
    ScratchDir logs_{"ordinal-verify-logs"};
    std::unique_ptr<VerifyBackend> backend_;
    std::unique_ptr<ServerProcess> server_;
    int runs_ = 0;
};

// Stores holding orders in every status, a restock between an order and its cancellation, and
// some volume; every event projected, the server stopped.
class VerifyDrift : public VerifyTestBase {
  protected:
    static constexpr int kExtraOrders = 20;
    static constexpr int kEvents = 3 + 1 + 2 + 3 + 2 + kExtraOrders;

    void SetUp() override {
        VerifyTestBase::SetUp();
        ASSERT_NO_THROW(server_->start());
        OrdinalApi api(server_->port());
        std::vector<std::string> tokens;
        auto keep = [&tokens](const Ack& a) {
            tokens.push_back(a.token);
            return a;
        };
        const std::string user = random_uuid();
        mug_ = unique_sku("MUG");
        pen_ = unique_sku("PEN");
        keep(api.create_product(mug_, 1000, 50));
        keep(api.create_product(pen_, 250, nullptr));
        placed_ = keep(api.create_order(user, {{mug_, 2}, {pen_, 5}})).order_id;
        paid_ = keep(api.create_order(user, {{mug_, 1}})).order_id;
        keep(api.must_command("pay", paid_, {{"paymentRef", "r-1"}, {"amountMinor", 1000}}));
        shipped_ = keep(api.create_order(user, {{mug_, 3}})).order_id;
        keep(api.must_command("pay", shipped_, {{"paymentRef", "r-2"}, {"amountMinor", 3000}}));
        keep(api.must_command("ship", shipped_, json::object()));
        cancelled_ = keep(api.create_order(user, {{mug_, 1}, {pen_, 1}})).order_id;
        keep(api.create_product(mug_, 1000, 80));  // restock before the cancellation
        keep(api.must_command("cancel", cancelled_, {{"reason", "changed my mind"}}));
        for (int i = 0; i < kExtraOrders; ++i) keep(api.create_order(random_uuid(), {{mug_, 1}}));
        // The gate answers once every version above is projected.
        api.must_read("/v1/products/" + mug_, join_tokens(tokens));
        ASSERT_EQ(server_->terminate(), 0) << server_->log();
    }

    // Drift is only drift once it is older than the projection grace; the planted rows are
    // seconds old, so these runs judge with no grace at all.
    VerifyRun verify_strict(std::vector<std::string> extra = {}) {
        extra.insert(extra.end(), {"--max-projection-lag-s", "0"});
        return verify(std::move(extra));
    }

    void exec_write(const std::string& sql) { backend_->exec(true, sql); }
    void exec_read(const std::string& sql) { backend_->exec(false, sql); }

    std::string mug_, pen_;
    std::string placed_, paid_, shipped_, cancelled_;
};

using VerifyLive = VerifyTestBase;

}  // namespace ordinal::test
