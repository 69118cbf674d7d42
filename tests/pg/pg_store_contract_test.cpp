// The store contract suites (tests/contract/*_contract_test.cpp, compiled into this binary too)
// run unchanged against the PostgreSQL stores, each test in a fresh database.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/postgres_backend.h"

namespace ordinal::contract {

INSTANTIATE_TEST_SUITE_P(Postgres, WriteStoreContract, ::testing::Values(postgres_backend()),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, ReadStoreContract, ::testing::Values(postgres_backend()),
                         backend_name);

namespace {

// The write store contract's cases that only PostgreSQL's outbox can produce.
class PgWriteStoreContract : public WriteStoreContract {};

// Relays sharing a PostgreSQL outbox (its partitions), or a seq committed after higher ones were
// published, give batches that do not cover their whole seq range: each event still maps to the
// batch that carried it. (One SQLite writer relays in seq order, so its batches never do: this case
// is PostgreSQL's alone, a suite of its own rather than a skip in the shared one.)
TEST_P(PgWriteStoreContract, InterleavedRelayBatchesMapEachEventToItsOwn) {
    accept(upsert_request(new_key(), "SKU-1", 1));
    accept(upsert_request(new_key(), "SKU-2", 1));
    accept(upsert_request(new_key(), "SKU-1", 2));
    accept(upsert_request(new_key(), "SKU-2", 2));
    auto pending = store_->fetch_pending(10);
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 4u);
    // Each stream's events a batch of their own: seqs 1 and 3, then 2 and 4.
    std::map<std::string, std::vector<StoredEvent>> by_sku;
    for (const StoredEvent& e : *pending) by_sku[e.event.stream.id].push_back(e);
    ASSERT_EQ(by_sku["SKU-1"].size(), 2u);
    clock_.advance(7);
    ASSERT_TRUE(store_->mark_published(by_sku["SKU-1"]));
    clock_.advance(7);
    ASSERT_TRUE(store_->mark_published(by_sku["SKU-2"]));
    for (const auto& [sku, at] : {std::pair{"SKU-1", kT0 + 7}, std::pair{"SKU-2", kT0 + 14}}) {
        auto log = store_->stream_log(StreamKey{StreamType::Product, sku}, 10);
        ASSERT_TRUE(log) << log.error().message;
        ASSERT_EQ(log->size(), 2u);
        for (const StreamLogEntry& e : *log) {
            EXPECT_TRUE(e.published) << sku;
            EXPECT_EQ(e.published_ms, at) << sku << " v" << e.version;
        }
    }
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, PgWriteStoreContract, ::testing::Values(postgres_backend()),
                         backend_name);

}  // namespace ordinal::contract
