// Twin of sqlite_migrations.cpp on purpose: the schema and the version-table statements in
// PostgreSQL's dialect and client library; what the runners share (judging recorded versions) is
// adapters/schema_migrations.h (docs/building.md#repeated-code).
#include "adapters/postgres/pg_migrations.h"

#include <map>
#include <string>

namespace ordinal::pg {
namespace {

// The events table is both the outbox and the permanent event log: rows are never deleted.
// `seq` comes from a sequence, so it is assigned at insert but becomes visible in commit order;
// the relay therefore never keeps a "last seen seq" cursor. Pending events are found through
// the outbox_pending table (migration 3), which stays as small as the backlog.
constexpr Migration kWrite[] = {
    {1, "initial write model, idempotency and outbox", R"sql(
CREATE TABLE products (
    sku         text PRIMARY KEY,
    name        text NOT NULL,
    currency    text NOT NULL,
    price_minor bigint NOT NULL,
    stock       bigint,               -- NULL = unlimited
    reserved    bigint NOT NULL,
    stock_seq   bigint NOT NULL,
    version     bigint NOT NULL
);
CREATE TABLE orders (
    order_id    text PRIMARY KEY,
    user_id     text NOT NULL,
    status      text NOT NULL,
    currency    text NOT NULL,
    lines       text NOT NULL,        -- JSON [{sku,qty,unitPriceMinor}]
    total_minor bigint NOT NULL,
    version     bigint NOT NULL,
    created_at  text NOT NULL,
    updated_at  text NOT NULL
);
CREATE TABLE idempotency (
    key          text PRIMARY KEY,
    fingerprint  text NOT NULL,
    command_type text NOT NULL,
    event_id     uuid NOT NULL,
    stream_type  text NOT NULL,
    stream_id    text NOT NULL,
    version      bigint NOT NULL,
    token        text NOT NULL,
    created_ms   bigint NOT NULL
);
CREATE TABLE events (
    seq            bigserial PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    stream_type    text NOT NULL,
    stream_id      text NOT NULL,
    version        bigint NOT NULL,
    type           text NOT NULL,
    occurred_at    text NOT NULL,
    causation_id   text NOT NULL,
    schema_version integer NOT NULL,
    data           text NOT NULL,
    created_ms     bigint NOT NULL,
    published      boolean NOT NULL DEFAULT false,
    UNIQUE (stream_type, stream_id, version)
);
CREATE INDEX events_pending ON events (seq) WHERE NOT published;
CREATE TABLE relay_state (
    id            integer PRIMARY KEY CHECK (id = 1),
    published_seq bigint NOT NULL
);
INSERT INTO relay_state (id, published_seq) VALUES (1, 0);
)sql"},
    // Relays split the outbox by stream: a stream's partition is stream_hash mod the partition
    // count, so every event of a stream falls in one partition and the count can change without
    // rewriting rows. The hash is computed by the server at insert (writers need not know it).
    // Idempotency records expire; the index finds the old ones without a scan.
    {2, "outbox partitions by stream hash, idempotency retention index", R"sql(
ALTER TABLE events ADD COLUMN stream_hash integer NOT NULL
    GENERATED ALWAYS AS (hashtext(stream_type || '/' || stream_id) & 2147483647) STORED;
DROP INDEX events_pending;
CREATE INDEX events_pending ON events (seq) INCLUDE (stream_hash) WHERE NOT published;
CREATE INDEX idempotency_created ON idempotency (created_ms);
)sql"},
    // The outbox becomes its own narrow table: a row per committed, unpublished event, inserted
    // in the event's transaction (so it becomes visible with it, whatever the seq order of
    // commits) and deleted when the relay marks the event published. Before, marking rewrote the
    // whole event row (the flag was in the pending index's predicate, so the update was never
    // HOT and every index of events took a new entry): ~650-880 WAL bytes per order in issue
    // 15's profile, against a small heap delete now. The queue table churns, so it is vacuumed
    // by row count rather than by a fraction of its (small) size.
    {3, "outbox pending table instead of a published flag", R"sql(
CREATE TABLE outbox_pending (
    seq         bigint PRIMARY KEY,   -- events.seq
    stream_hash integer NOT NULL,     -- events.stream_hash (the relay partition)
    created_ms  bigint NOT NULL       -- events.created_ms (the outbox age)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
INSERT INTO outbox_pending (seq, stream_hash, created_ms)
    SELECT seq, stream_hash, created_ms FROM events WHERE NOT published;
DROP INDEX events_pending;
ALTER TABLE events DROP COLUMN published;
)sql"},
    // W3C trace context of the command, kept beside the event and sent on by the relay as bus
    // message headers. NULL for events stored before (they stay readable, with none); nullable
    // columns without a default, so adding them rewrites nothing.
    {4, "trace context of each event", R"sql(
ALTER TABLE events ADD COLUMN traceparent text, ADD COLUMN tracestate text;
)sql"},
    // When each relay batch was marked published (ports/batch_times.h): a row per batch, not per
    // event, written by the marking statement itself and pruned after an hour. `seqs` only when
    // the batch does not cover its whole range (relays sharing the outbox, a late commit).
    {5, "relay batch times", R"sql(
CREATE TABLE relay_batches (
    id           bigserial PRIMARY KEY,
    published_ms bigint NOT NULL,
    first_seq    bigint NOT NULL,
    last_seq     bigint NOT NULL,
    seqs         bigint[]
);
CREATE INDEX relay_batches_last_seq ON relay_batches (last_seq);
)sql"},
};

constexpr Migration kRead[] = {
    {1, "initial order and product views, bus positions", R"sql(
CREATE TABLE orders_view (
    order_id    text PRIMARY KEY,
    user_id     text NOT NULL,
    status      text NOT NULL,
    currency    text NOT NULL,
    items       text NOT NULL,        -- JSON [{sku,qty,unitPriceMinor}]
    total_minor bigint NOT NULL,
    version     bigint NOT NULL,
    created_at  text NOT NULL,
    updated_at  text NOT NULL
);
CREATE INDEX orders_view_by_user ON orders_view (user_id, created_at DESC, order_id DESC);
CREATE TABLE products_view (
    sku         text PRIMARY KEY,
    name        text NOT NULL,
    currency    text NOT NULL,
    price_minor bigint NOT NULL,
    stock       bigint,               -- NULL = unlimited
    stock_seq   bigint NOT NULL,
    version     bigint NOT NULL       -- 0: placeholder holding stock only
);
CREATE TABLE bus_positions (
    partition text PRIMARY KEY,
    "offset"  bigint NOT NULL
);
)sql"},
    // Messages from the bus that could not be applied, until an operator retries them. The
    // payload is bytes as received (it need not be UTF-8); ids are never reused. Looked up by
    // stream (and version) on every gap of a delivery.
    {2, "dead letters", R"sql(
CREATE TABLE dead_letters (
    id         bigserial PRIMARY KEY,
    partition  text NOT NULL,
    "offset"   bigint NOT NULL,
    stream     text NOT NULL,         -- '' if unknown
    version    bigint NOT NULL,       -- 0 if unknown
    event_type text NOT NULL,
    payload    bytea NOT NULL,
    reason     text NOT NULL,
    created_at text NOT NULL
        DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);
CREATE INDEX dead_letters_by_stream ON dead_letters (stream, version);
)sql"},
    // One row while a rebuild has emptied the read model and not yet replayed the whole log.
    {3, "rebuild state", R"sql(
CREATE TABLE rebuild_state (
    id         integer PRIMARY KEY CHECK (id = 1),
    started_at text NOT NULL
        DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);
)sql"},
    // Operators' requests, taken by any process and carried out by a projector; and the
    // processes of the deployment with their heartbeats. Times in Unix ms by the server's clock.
    {4, "admin requests and process registry", R"sql(
CREATE TABLE admin_requests (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    target       bigint,
    state        text NOT NULL DEFAULT 'queued',
    requested_by text NOT NULL,
    owner        text NOT NULL DEFAULT '',
    attempts     bigint NOT NULL DEFAULT 0,
    requested_ms bigint NOT NULL,
    started_ms   bigint NOT NULL DEFAULT 0,
    finished_ms  bigint NOT NULL DEFAULT 0,
    progress     text NOT NULL DEFAULT '',
    result       text NOT NULL DEFAULT '',
    error_code   text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX admin_requests_one_rebuild ON admin_requests (kind)
    WHERE kind = 'rebuild' AND state IN ('queued', 'running');
CREATE INDEX admin_requests_open ON admin_requests (id) WHERE state IN ('queued', 'running');
CREATE TABLE processes (
    id           text PRIMARY KEY,
    roles        text NOT NULL,
    version      text NOT NULL,
    started_ms   bigint NOT NULL,
    last_seen_ms bigint NOT NULL,
    detail       text NOT NULL DEFAULT '{}'
);
)sql"},
    // Operators' reasons on requests (a discard's), discarded dead letters kept as tombstones
    // that still hold their streams (ReadStore::discard_dead_letter), and the audit log of admin
    // actions (times in Unix ms by the server's clock). Columns with constant defaults: adding
    // them rewrites nothing.
    {5, "dead-letter discard and admin audit log", R"sql(
ALTER TABLE admin_requests ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN discarded_at text, ADD COLUMN discard_reason text NOT NULL DEFAULT '';
CREATE TABLE admin_audit (
    id           bigserial PRIMARY KEY,
    at_ms        bigint NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL,
    reason       text NOT NULL,
    outcome      text NOT NULL,
    result       text NOT NULL,
    process      text NOT NULL,
    requested_by text NOT NULL,
    request_id   bigint
);
)sql"},
    // When each projection batch committed and the version it left each stream it advanced at
    // (ports/batch_times.h, codec/batch_streams.h): a row per batch, not per event, pruned after
    // an hour and emptied by a rebuild with the rest of the read model.
    {6, "projection batch times", R"sql(
CREATE TABLE projection_batches (
    id         bigserial PRIMARY KEY,
    applied_ms bigint NOT NULL,
    streams    text NOT NULL
);
CREATE INDEX projection_batches_applied ON projection_batches (applied_ms, id);
)sql"},
};

const MigrationSet kWriteSet{"ordinal_write_migrations", 0x6f7264696e616c01, kWrite};
const MigrationSet kReadSet{"ordinal_read_migrations", 0x6f7264696e616c02, kRead};

using migrations::Applied;

bool has_table(Connection& conn, const MigrationSet& set) {
    Result r = conn.exec("SELECT to_regclass($1) IS NOT NULL", std::string(set.table));
    return r.rows() == 1 && r.text(0, 0) == "t";
}

Applied applied_migrations(Connection& conn, const MigrationSet& set) {
    Applied out;
    Result r = conn.exec(std::string("SELECT version, name FROM ") + set.table);
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.int64(i, 0), r.text(i, 1));
    return out;
}

void reject_foreign(const Applied& applied, const MigrationSet& set) {
    if (auto why = migrations::foreign(applied, set.migrations))
        throw_internal(std::string(set.table) + " " + *why);
}

}  // namespace

const MigrationSet& write_store_migrations() {
    return kWriteSet;
}
const MigrationSet& read_store_migrations() {
    return kReadSet;
}

void apply_migrations(Connection& conn, const MigrationSet& set) {
    Transaction tx(conn);
    conn.exec("SELECT pg_advisory_xact_lock($1)", set.lock_key);
    conn.exec_script(std::string("CREATE TABLE IF NOT EXISTS ") + set.table +
                     " (version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT "
                     "NULL DEFAULT now())");
    const Applied applied = applied_migrations(conn, set);
    reject_foreign(applied, set);
    for (const Migration& m : set.migrations) {
        if (applied.count(m.version)) continue;
        conn.exec_script(m.sql);
        conn.exec(std::string("INSERT INTO ") + set.table + " (version, name) VALUES ($1, $2)",
                  m.version, std::string(m.name));
    }
    tx.commit();
}

void check_migrations_applied(Connection& conn, const MigrationSet& set) {
    if (!has_table(conn, set))
        throw_internal(std::string("no ") + set.table + " table (run migrate)");
    const Applied applied = applied_migrations(conn, set);
    reject_foreign(applied, set);
    if (auto why = migrations::missing(applied, set.migrations))
        throw_internal(std::string(set.table) + " " + *why);
}

}  // namespace ordinal::pg
