// Upgrading a write store from schema version 2 (a `published` flag on each event, a partial
// index over the unpublished ones) to 3 (the outbox_pending table): the events still unpublished
// at the upgrade are the outbox afterwards, in seq order, and nothing already published comes
// back.
#include <gtest/gtest.h>

#include "adapters/postgres/pg_connection.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_write_rows.h"
#include "codec/event_json.h"
#include "support/postgres_backend.h"

namespace ordinal {
namespace {

using contract::FixedClock;
using contract::kT0;

void insert_v2_event(pg::Connection& conn, const Event& e, bool published) {
    conn.exec(
        "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
        "causation_id, schema_version, data, created_ms, published) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        e.event_id, std::string(stream_type_name(e.stream.type)), e.stream.id, e.version,
        std::string(event_type_name(e.data)), e.occurred_at, e.causation_id, e.schema_version,
        encode_event_data(e.data), kT0 - 1000 * e.version, published);
}

// A connection to `db` whose write store has only its first `n` migrations applied.
pg::Connection store_at_version(const test_support::PgTestDatabase& db, std::size_t n) {
    const pg::MigrationSet& all = pg::write_store_migrations();
    if (all.migrations.size() <= n)
        throw std::runtime_error("no migration after version " + std::to_string(n));
    pg::Connection conn = pg::Connection::open(db.url());
    pg::apply_migrations(conn, pg::MigrationSet{all.table, all.lock_key, all.migrations.first(n)});
    return conn;
}

TEST(PgOutboxUpgrade, TheUnpublishedEventsOfAVersion2StoreAreTheOutboxAfterTheUpgrade) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};

    {
        pg::Connection conn = store_at_version(db, 2);
        ASSERT_EQ(pg::write_store_migrations().migrations[2].version, 3);
        // Versions 1..4 of one product, 1 and 3 published, then 1..2 of another, unpublished.
        for (std::int64_t v = 1; v <= 4; ++v) {
            Event e = contract::product_upserted("SKU-A", v, 5, v);
            e.event_id = ids.new_uuid_v7();
            insert_v2_event(conn, e, v == 1 || v == 3);
        }
        for (std::int64_t v = 1; v <= 2; ++v) {
            Event e = contract::product_upserted("SKU-B", v, 5, v);
            e.event_id = ids.new_uuid_v7();
            insert_v2_event(conn, e, false);
        }
    }

    PostgresWriteStoreOptions options;
    options.conninfo = db.url();
    auto store = make_postgres_write_store(options, clock,
                                           command_rules(clock, ids));  // migrates to the latest
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->check_ready());

    auto stats = (*store)->outbox_stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->pending, 4);
    EXPECT_EQ(stats->last_seq, 6);
    EXPECT_EQ(stats->oldest_pending_age_ms, 4000);  // SKU-A version 4 (created_ms: kT0 - 1000 v)

    auto pending = (*store)->fetch_pending(100);
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 4u);
    const std::pair<const char*, std::int64_t> expected[] = {
        {"SKU-A", 2}, {"SKU-A", 4}, {"SKU-B", 1}, {"SKU-B", 2}};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ((*pending)[i].event.stream.id, expected[i].first) << i;
        EXPECT_EQ((*pending)[i].event.version, expected[i].second) << i;
        if (i > 0) {
            EXPECT_LT((*pending)[i - 1].seq, (*pending)[i].seq);
        }
    }
    ASSERT_TRUE((*store)->mark_published(*pending));
    auto none = (*store)->fetch_pending(100);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    stats = (*store)->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 0);
    EXPECT_EQ(stats->oldest_pending_age_ms, 0);

    // The whole log is still there for rebuilds.
    auto log = (*store)->read_log(0, 100);
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ(log->size(), 6u);
}

// Version 3 to 4 (the trace context columns): events stored before have none and read as before;
// events stored after carry theirs.
TEST(PgOutboxUpgrade, EventsStoredBeforeTheTraceColumnsStayReadableWithoutATraceContext) {
    test_support::PgTestDatabase db;
    FixedClock clock{kT0};
    RandomIdGenerator ids{clock};
    {
        pg::Connection conn = store_at_version(db, 3);
        ASSERT_EQ(pg::write_store_migrations().migrations[3].version, 4);
        Event e = contract::product_upserted("SKU-OLD", 1, 5, 1);
        e.event_id = ids.new_uuid_v7();
        // A version-3 writer's insert: no trace columns.
        conn.exec(
            "WITH e AS (INSERT INTO events (event_id, stream_type, stream_id, version, type, "
            "occurred_at, causation_id, schema_version, data, created_ms) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq, stream_hash, "
            "created_ms) INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e",
            e.event_id, std::string(stream_type_name(e.stream.type)), e.stream.id, e.version,
            std::string(event_type_name(e.data)), e.occurred_at, e.causation_id, e.schema_version,
            encode_event_data(e.data), kT0);
    }
    PostgresWriteStoreOptions options;
    options.conninfo = db.url();
    auto store = make_postgres_write_store(options, clock,
                                           command_rules(clock, ids));  // migrates to version 4
    ASSERT_TRUE(store) << store.error().message;
    {
        pg::Connection conn = pg::Connection::open(db.url());
        Event e = contract::product_upserted("SKU-NEW", 1, 5, 1);
        e.event_id = ids.new_uuid_v7();
        pg::insert_event(
            conn, e,
            TraceContext{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "rojo=1"}, kT0);
    }
    auto pending = (*store)->fetch_pending(10);
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 2u);
    EXPECT_EQ((*pending)[0].event.stream.id, "SKU-OLD");
    EXPECT_FALSE((*pending)[0].undecoded);
    EXPECT_TRUE((*pending)[0].trace.empty());
    EXPECT_EQ((*pending)[1].event.stream.id, "SKU-NEW");
    EXPECT_EQ((*pending)[1].trace.traceparent,
              "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    EXPECT_EQ((*pending)[1].trace.tracestate, "rojo=1");
}

}  // namespace
}  // namespace ordinal
