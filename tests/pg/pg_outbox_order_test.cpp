// The outbox-order pitfall: sequence numbers are assigned at insert but become visible in commit
// order. Two transactions commit out of sequence order on purpose; the relay's view of the outbox
// (fetch_pending / mark_published) must still hand out the late one.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_write_rows.h"
#include "codec/event_json.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using contract::FixedClock;
using contract::kT0;

Event upserted(IdGenerator& ids, const std::string& sku, std::int64_t version) {
    Event e = contract::product_upserted(sku, version, 5, version);
    e.event_id = ids.new_uuid_v7();
    return e;
}

// A write store on a database of its own.
struct OutboxOnPostgres {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    Expected<std::unique_ptr<WriteStore>, StoreError> store = open();

    Expected<std::unique_ptr<WriteStore>, StoreError> open() {
        PostgresWriteStoreOptions options;
        options.conninfo = db.url();
        return make_postgres_write_store(options, clock, command_rules(clock, ids));
    }
};

TEST(PgOutboxOrder, AnEventThatCommitsAfterALaterSequenceIsStillRelayed) {
    OutboxOnPostgres fixture;
    auto& [db, clock, ids, store] = fixture;
    ASSERT_TRUE(store) << store.error().message;

    pg::Connection a = pg::Connection::open(db.url());
    pg::Connection b = pg::Connection::open(db.url());
    a.exec_script("BEGIN");
    pg::insert_event(a, upserted(ids, "SKU-A", 1), {}, kT0);  // takes seq N
    b.exec_script("BEGIN");
    pg::insert_event(b, upserted(ids, "SKU-B", 1), {}, kT0);  // takes seq N+1
    b.exec_script("COMMIT");                                  // ...and commits first

    // The relay runs while A is still open: it sees B only, and publishes it.
    auto first = (*store)->fetch_pending(100);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->size(), 1u);
    EXPECT_EQ((*first)[0].event.stream.id, "SKU-B");
    const std::int64_t seq_b = (*first)[0].seq;
    ASSERT_TRUE((*store)->mark_published(*first));

    a.exec_script("COMMIT");

    // A's event has a lower seq than one already published, and must not be skipped.
    auto second = (*store)->fetch_pending(100);
    ASSERT_TRUE(second) << second.error().message;
    ASSERT_EQ(second->size(), 1u);
    EXPECT_EQ((*second)[0].event.stream.id, "SKU-A");
    EXPECT_LT((*second)[0].seq, seq_b);
    ASSERT_TRUE((*store)->mark_published(*second));

    auto none = (*store)->fetch_pending(100);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    auto stats = (*store)->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 0);
    EXPECT_EQ(stats->published_seq, seq_b);
}

// A relay with events out (fetched and sent, not yet marked) fetches past them: the store leaves
// them out of its query, and still hands out an event that committed late with a seq below the
// highest one out.
TEST(PgOutboxOrder, AFetchLeavesOutTheEventsOutButNotOneThatCommittedLateBelowThem) {
    OutboxOnPostgres fixture;
    auto& [db, clock, ids, store] = fixture;
    ASSERT_TRUE(store) << store.error().message;

    pg::Connection a = pg::Connection::open(db.url());
    pg::Connection b = pg::Connection::open(db.url());
    a.exec_script("BEGIN");
    pg::insert_event(a, upserted(ids, "SKU-LATE", 1), {}, kT0);  // the lowest seq, committed last
    for (int i = 0; i < 12; ++i)
        pg::insert_event(b, upserted(ids, "SKU-" + std::to_string(i), 1), {}, kT0);

    auto first = (*store)->fetch_pending(100);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->size(), 12u);
    std::vector<std::int64_t> out;
    for (const StoredEvent& e : *first) out.push_back(e.seq);  // ascending, as the relay keeps it

    auto none = (*store)->fetch_pending_except(100, out);
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_TRUE(none->empty()) << "the events out are not fetched again";

    pg::insert_event(b, upserted(ids, "SKU-NEW", 1), {}, kT0);  // above every seq out
    a.exec_script("COMMIT");
    auto next = (*store)->fetch_pending_except(100, out);
    ASSERT_TRUE(next) << next.error().message;
    ASSERT_EQ(next->size(), 2u);
    EXPECT_EQ((*next)[0].event.stream.id, "SKU-LATE");
    EXPECT_LT((*next)[0].seq, out.front());
    EXPECT_EQ((*next)[1].event.stream.id, "SKU-NEW");
    EXPECT_GT((*next)[1].seq, out.back());

    auto limited = (*store)->fetch_pending_except(1, out);
    ASSERT_TRUE(limited);
    ASSERT_EQ(limited->size(), 1u);
    EXPECT_EQ((*limited)[0].event.stream.id, "SKU-LATE");
}

// For the Kafka bus the relay fetches rows as their envelopes (EventForm::Envelope): the same
// rows as a decoded fetch, each carrying the bytes the decoded event encodes to, nothing decoded.
TEST(PgOutboxOrder, AFetchAsEnvelopesHandsOutTheRowsTheDecodedFetchDoesAsTheirEnvelopes) {
    OutboxOnPostgres fixture;
    auto& [db, clock, ids, store] = fixture;
    ASSERT_TRUE(store) << store.error().message;
    pg::Connection b = pg::Connection::open(db.url());
    for (int i = 0; i < 5; ++i)
        pg::insert_event(b, upserted(ids, "SKU-" + std::to_string(i), 1), {}, kT0);

    auto decoded = (*store)->fetch_pending_except(100, {}, EventForm::Decoded);
    ASSERT_TRUE(decoded) << decoded.error().message;
    auto envelopes = (*store)->fetch_pending_except(100, {}, EventForm::Envelope);
    ASSERT_TRUE(envelopes) << envelopes.error().message;
    ASSERT_EQ(decoded->size(), 5u);
    ASSERT_EQ(envelopes->size(), decoded->size());
    for (std::size_t i = 0; i < decoded->size(); ++i) {
        const StoredEvent& d = (*decoded)[i];
        const StoredEvent& e = (*envelopes)[i];
        EXPECT_FALSE(d.as_stored);
        ASSERT_TRUE(e.as_stored);
        EXPECT_EQ(e.seq, d.seq);
        EXPECT_EQ(e.event.stream, d.event.stream);
        EXPECT_EQ(e.event.version, d.event.version);
        EXPECT_EQ(e.as_stored->envelope, encode_event_envelope(d.event));
        EXPECT_EQ(e.as_stored->type, "ProductUpserted");
        EXPECT_EQ(e.as_stored->stream_type, "product");
    }
    // Marking takes them as it takes decoded ones.
    ASSERT_TRUE((*store)->mark_published(*envelopes));
    auto none = (*store)->fetch_pending(100);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

// The same through the stores' own writers: many commands from many threads, a relay loop
// running throughout, and every event published exactly once, each stream in version order.
TEST(PgOutboxOrder, ARelayLoopRunningDuringConcurrentCommitsMissesNothing) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    PostgresWriteStoreOptions options;
    options.conninfo = db.url();
    auto opened = make_postgres_write_store(options, clock, command_rules(clock, ids));
    ASSERT_TRUE(opened) << opened.error().message;
    WriteStore& store = **opened;

    constexpr int kThreads = 16;
    constexpr int kPerThread = 30;
    std::atomic<int> accepted{0};
    std::atomic<bool> writing{true};
    std::map<StreamKey, std::int64_t> published_version;
    std::set<std::string> published_ids;
    bool in_order = true;
    std::thread relay([&] {
        for (;;) {
            const bool last_round = !writing.load();
            auto batch = store.fetch_pending(50);
            if (batch && !batch->empty()) {
                for (const StoredEvent& e : *batch) {
                    auto& v = published_version[e.event.stream];
                    if (e.event.version != v + 1) in_order = false;
                    v = e.event.version;
                    published_ids.insert(e.event.event_id);
                }
                EXPECT_TRUE(store.mark_published(*batch));
            } else if (last_round) {
                break;
            }
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                // Each thread re-upserts its own product: a stream with many versions.
                std::promise<CommandOutcome> p;
                store.submit(contract::upsert_request(ids.new_uuid_v7(),
                                                      "SKU-" + std::to_string(t % 8), 1, 100 + i),
                             [&p](CommandOutcome o) { p.set_value(std::move(o)); });
                if (std::holds_alternative<Acknowledgement>(p.get_future().get())) ++accepted;
            }
        });
    }
    for (auto& w : writers) w.join();
    writing = false;
    relay.join();

    EXPECT_EQ(accepted.load(), kThreads * kPerThread);
    EXPECT_TRUE(in_order);
    EXPECT_EQ(published_ids.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace ordinal
