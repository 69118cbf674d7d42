// Twin of pg_migrations.cpp on purpose: the schema and the version-table statements in SQLite's
// dialect and client library; what the runners share (judging recorded versions) is
// adapters/schema_migrations.h (docs/building.md#repeated-code).
#include "adapters/sqlite/sqlite_migrations.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ordinal::sqlite {
namespace {

// The events table is both the outbox and the permanent event log: rows are never deleted. One
// writer assigns `seq` in commit order, so "pending" is simply seq > relay_state.published_seq.
constexpr Migration kWriteStore[] = {
    {1, "initial write model, idempotency and outbox", R"sql(
CREATE TABLE products (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    stock       INTEGER,              -- NULL = unlimited
    reserved    INTEGER NOT NULL,
    stock_seq   INTEGER NOT NULL,
    version     INTEGER NOT NULL
);
CREATE TABLE orders (
    order_id    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    status      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    lines       TEXT NOT NULL,        -- JSON [{sku,qty,unitPriceMinor}]
    total_minor INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE idempotency (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    command_type TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    stream_type  TEXT NOT NULL,
    stream_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    token        TEXT NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL UNIQUE,
    stream_type    TEXT NOT NULL,
    stream_id      TEXT NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT NOT NULL,
    occurred_at    TEXT NOT NULL,
    causation_id   TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    UNIQUE (stream_type, stream_id, version)
);
CREATE TABLE relay_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    published_seq INTEGER NOT NULL
);
INSERT INTO relay_state (id, published_seq) VALUES (1, 0);
)sql"},
    // W3C trace context of the command, kept beside the event and sent on by the relay as bus
    // message headers. NULL for events stored before (they stay readable, with none).
    {2, "trace context of each event", R"sql(
ALTER TABLE events ADD COLUMN traceparent TEXT;
ALTER TABLE events ADD COLUMN tracestate TEXT;
)sql"},
    // Idempotency retention deletes the oldest records in batches (sqlite_idempotency_retention).
    {3, "idempotency retention index", R"sql(
CREATE INDEX idempotency_created ON idempotency (created_ms);
)sql"},
    // When each relay batch was marked published (ports/batch_times.h): a row per batch, not per
    // event, written in the marking's own upkeep step and pruned after an hour.
    {4, "relay batch times", R"sql(
CREATE TABLE relay_batches (
    id           INTEGER PRIMARY KEY,
    published_ms INTEGER NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL
);
CREATE INDEX relay_batches_last_seq ON relay_batches (last_seq);
)sql"},
};

// products_view.version 0 marks a placeholder row: its stock was seen (from an order's stock
// change) before the product's first ProductUpserted.
constexpr Migration kReadStore[] = {
    {1, "initial order and product views, bus positions", R"sql(
CREATE TABLE orders_view (
    order_id    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    status      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    items       TEXT NOT NULL,        -- JSON [{sku,qty,unitPriceMinor}]
    total_minor INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX orders_view_by_user ON orders_view (user_id, created_at DESC, order_id DESC);
CREATE TABLE products_view (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    currency    TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    stock       INTEGER,              -- NULL = unlimited
    stock_seq   INTEGER NOT NULL,
    version     INTEGER NOT NULL
);
CREATE TABLE bus_positions (
    partition TEXT PRIMARY KEY,
    "offset"  INTEGER NOT NULL
);
)sql"},
    // Messages from the bus that could not be applied, until an operator retries them.
    // AUTOINCREMENT: an id is never reused, so a retry by id cannot hit a later letter. Looked up
    // by stream (and version) on every gap of a delivery.
    {2, "dead letters", R"sql(
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    partition  TEXT NOT NULL,
    "offset"   INTEGER NOT NULL,
    stream     TEXT NOT NULL,           -- '' if unknown
    version    INTEGER NOT NULL,        -- 0 if unknown
    event_type TEXT NOT NULL,
    payload    BLOB NOT NULL,           -- the message value as received
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX dead_letters_by_stream ON dead_letters (stream, version);
)sql"},
    // One row while a rebuild has emptied the read model and not yet replayed the whole log.
    {3, "rebuild state", R"sql(
CREATE TABLE rebuild_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    started_at TEXT NOT NULL
);
)sql"},
    // Operators' requests, taken by any process and carried out by a projector; and the
    // processes of the deployment with their heartbeats. Times in Unix ms. AUTOINCREMENT: a
    // request id is never reused, so GET on an old id never finds a later request.
    {4, "admin requests and process registry", R"sql(
CREATE TABLE admin_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    target       INTEGER,
    state        TEXT NOT NULL DEFAULT 'queued',
    requested_by TEXT NOT NULL,
    owner        TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    requested_ms INTEGER NOT NULL,
    started_ms   INTEGER NOT NULL DEFAULT 0,
    finished_ms  INTEGER NOT NULL DEFAULT 0,
    progress     TEXT NOT NULL DEFAULT '',
    result       TEXT NOT NULL DEFAULT '',
    error_code   TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX admin_requests_one_rebuild ON admin_requests (kind)
    WHERE kind = 'rebuild' AND state IN ('queued', 'running');
CREATE INDEX admin_requests_open ON admin_requests (id) WHERE state IN ('queued', 'running');
CREATE TABLE processes (
    id           TEXT PRIMARY KEY,
    roles        TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}'
);
)sql"},
    // Operators' reasons on requests (a discard's), discarded dead letters kept as tombstones
    // that still hold their streams (ReadStore::discard_dead_letter), and the audit log of admin
    // actions (times in Unix ms). AUTOINCREMENT: an audit id is never reused.
    {5, "dead-letter discard and admin audit log", R"sql(
ALTER TABLE admin_requests ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN discarded_at TEXT;
ALTER TABLE dead_letters ADD COLUMN discard_reason TEXT NOT NULL DEFAULT '';
CREATE TABLE admin_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms        INTEGER NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    result       TEXT NOT NULL,
    process      TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    request_id   INTEGER
);
)sql"},
    // When each projection batch committed and the version it left each stream it advanced at
    // (ports/batch_times.h, codec/batch_streams.h): a row per batch, not per event, pruned after
    // an hour and emptied by a rebuild with the rest of the read model.
    {6, "projection batch times", R"sql(
CREATE TABLE projection_batches (
    id         INTEGER PRIMARY KEY,
    applied_ms INTEGER NOT NULL,
    streams    TEXT NOT NULL
);
CREATE INDEX projection_batches_applied ON projection_batches (applied_ms);
)sql"},
};

constexpr const char* kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
)
)sql";

using migrations::Applied;

Applied applied_migrations(Connection& conn) {
    Applied out;
    Query q = conn.query("SELECT version, name FROM schema_migrations");
    while (q.next()) out.emplace(q.int64(0), q.text(1));
    return out;
}

[[noreturn]] void reject(const Connection& conn, const std::string& why) {
    throw StoreFailure(internal_error("sqlite: " + conn.path() + " " + why));
}

std::int64_t wall_clock_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::span<const Migration> write_store_migrations() {
    return kWriteStore;
}
std::span<const Migration> read_store_migrations() {
    return kReadStore;
}

void apply_migrations(Connection& conn, std::span<const Migration> migrations) {
    Transaction tx(conn, Transaction::Mode::Immediate);
    conn.exec_script(kCreateMigrationsTable);
    const auto applied = applied_migrations(conn);
    if (auto why = migrations::foreign(applied, migrations)) reject(conn, *why);
    for (const Migration& m : migrations) {
        if (applied.count(m.version)) continue;
        conn.exec_script(m.sql);
        conn.exec("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
                  m.version, m.name, wall_clock_ms());
    }
    tx.commit();
}

void check_migrations_applied(Connection& conn, std::span<const Migration> migrations) {
    Transaction tx(conn, Transaction::Mode::Deferred);
    bool has_table = false;
    {
        Query q = conn.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
        has_table = q.next();
    }
    if (!has_table)
        throw StoreFailure(
            internal_error("sqlite: " + conn.path() + " has no schema (run migrate)"));
    const auto applied = applied_migrations(conn);
    if (auto why = migrations::foreign(applied, migrations)) reject(conn, *why);
    if (auto why = migrations::missing(applied, migrations)) reject(conn, *why);
    tx.commit();
}

}  // namespace ordinal::sqlite
