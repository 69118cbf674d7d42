// Twin of pg_write_rows.cpp on purpose: the write model's row statements in SQLite's dialect and
// client library (docs/building.md#repeated-code).
#include "adapters/sqlite/sqlite_write_rows.h"

#include "codec/event_json.h"

namespace ordinal::sqlite {
namespace {

constexpr const char* kSelectEventColumns =
    "SELECT seq, event_id, stream_type, stream_id, version, type, occurred_at, causation_id, "
    "schema_version, data, traceparent, tracestate FROM events ";

[[noreturn]] void corrupt(const std::string& what) {
    throw StoreFailure(internal_error("sqlite: corrupt row: " + what));
}

OutboxRow outbox_row(const Query& q) {
    return OutboxRow{q.int64(0), q.text(1), q.text(2), q.text(3),  q.int64(4),
                     q.text(5),  q.text(6), q.text(7), q.int64(8), q.text(9)};
}

// kSelectEventColumns: the row, then its trace context (NULL, read as empty, for events stored
// before there was one).
std::vector<StoredEvent> read_events(Query& q) {
    std::vector<StoredEvent> out;
    while (q.next()) {
        OutboxRow row = outbox_row(q);
        row.traceparent = q.text(10);
        row.tracestate = q.text(11);
        out.push_back(decode_outbox_row(row));
    }
    return out;
}

}  // namespace

StreamType parse_stored_stream_type(const std::string& text) {
    if (auto type = parse_stream_type(text)) return *type;
    corrupt("unknown stream type '" + text + "'");
}

StoredEvent read_event_row(const Query& q) {
    return decode_outbox_row(outbox_row(q));
}

Product read_product_row(const Query& q) {
    Product p;
    p.sku = q.text(0);
    p.name = q.text(1);
    p.currency = q.text(2);
    p.price_minor = q.int64(3);
    p.stock = q.opt_int64(4);
    p.reserved = q.int64(5);
    p.stock_seq = q.int64(6);
    p.version = q.int64(7);
    return p;
}

Order read_order_row(const Query& q) {
    Order o;
    o.id = q.text(0);
    o.user_id = q.text(1);
    const auto status = parse_order_status(q.text(2));
    if (!status) corrupt("order " + o.id + " has status '" + q.text(2) + "'");
    o.status = *status;
    o.currency = q.text(3);
    auto lines = decode_order_lines(q.text(4));
    if (!lines) corrupt("order " + o.id + " lines: " + lines.error());
    o.lines = std::move(*lines);
    o.total_minor = q.int64(5);
    o.version = q.int64(6);
    o.created_at = q.text(7);
    o.updated_at = q.text(8);
    return o;
}

std::optional<IdempotencyRecord> select_idempotency(Connection& conn, const std::string& key) {
    Query q = conn.query(
        "SELECT fingerprint, command_type, event_id, stream_type, stream_id, version, token, "
        "created_ms "
        "FROM idempotency WHERE key = ?",
        key);
    if (!q.next()) return std::nullopt;
    IdempotencyRecord r;
    r.key = key;
    r.fingerprint = q.text(0);
    r.command_type = q.text(1);
    r.ack.duplicate = false;
    r.ack.event_id = q.text(2);
    r.ack.stream.type = parse_stored_stream_type(q.text(3));
    r.ack.stream.id = q.text(4);
    r.ack.version = q.int64(5);
    r.ack.consistency_token = q.text(6);
    r.created_unix_ms = q.int64(7);
    return r;
}

void insert_idempotency(Connection& conn, const IdempotencyRecord& r) {
    conn.exec(
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, version, token, "
        "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        r.key, r.fingerprint, r.command_type, r.ack.event_id, stream_type_name(r.ack.stream.type),
        r.ack.stream.id, r.ack.version, r.ack.consistency_token, r.created_unix_ms);
}

std::optional<Product> select_product(Connection& conn, const std::string& sku) {
    Query q = conn.query(
        "SELECT sku, name, currency, price_minor, stock, reserved, stock_seq, version FROM "
        "products WHERE sku = ?",
        sku);
    if (!q.next()) return std::nullopt;
    return read_product_row(q);
}

void upsert_product(Connection& conn, const Product& p) {
    conn.exec(
        "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, stock_seq, "
        "version) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (sku) DO UPDATE SET name = ?2, currency = ?3, price_minor = ?4, stock = ?5, "
        "reserved = ?6, "
        "stock_seq = ?7, version = ?8",
        p.sku, p.name, p.currency, p.price_minor, p.stock, p.reserved, p.stock_seq, p.version);
}

std::optional<Order> select_order(Connection& conn, const std::string& order_id) {
    Query q = conn.query(
        "SELECT order_id, user_id, status, currency, lines, total_minor, version, created_at, "
        "updated_at FROM orders WHERE order_id = ?",
        order_id);
    if (!q.next()) return std::nullopt;
    return read_order_row(q);
}

void upsert_order(Connection& conn, const Order& o) {
    // Lines never change after placement, but writing them again keeps this one statement.
    conn.exec(
        "INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, "
        "created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT (order_id) DO UPDATE SET user_id = ?2, status = ?3, currency = ?4, lines = "
        "?5, "
        "total_minor = ?6, version = ?7, created_at = ?8, updated_at = ?9",
        o.id, o.user_id, order_status_name(o.status), o.currency, encode_order_lines(o.lines),
        o.total_minor, o.version, o.created_at, o.updated_at);
}

void insert_event(Connection& conn, const Event& e, const TraceContext& trace,
                  std::int64_t created_ms) {
    // NULL, not '', when there is none: an event stored before trace context existed reads the
    // same.
    const auto or_null = [](const std::string& s) {
        return s.empty() ? std::nullopt : std::optional<std::string_view>(s);
    };
    conn.exec(
        "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
        "causation_id, schema_version, data, created_ms, traceparent, tracestate) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        e.event_id, stream_type_name(e.stream.type), e.stream.id, e.version,
        event_type_name(e.data), e.occurred_at, e.causation_id, schema_version_of(e.data),
        encode_event_data(e.data), created_ms, or_null(trace.traceparent),
        or_null(trace.tracestate));
}

std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit) {
    Query q = conn.query(std::string(kSelectEventColumns) + "WHERE seq > ? ORDER BY seq LIMIT ?",
                         after_seq, limit);
    return read_events(q);
}

std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit) {
    Query q = conn.query(
        std::string(kSelectEventColumns) +
            "WHERE seq > (SELECT published_seq FROM relay_state WHERE id = 1) ORDER BY seq LIMIT ?",
        limit);
    return read_events(q);
}

std::int64_t select_published_seq(Connection& conn) {
    Query q = conn.query("SELECT published_seq FROM relay_state WHERE id = 1");
    if (!q.next()) corrupt("relay_state has no row");
    return q.int64(0);
}

void mark_relay_batch(Connection& conn, const RelayBatch& batch) {
    conn.exec("UPDATE relay_state SET published_seq = max(published_seq, ?) WHERE id = 1",
              batch.last_seq);
    conn.exec("INSERT INTO relay_batches (published_ms, first_seq, last_seq) VALUES (?, ?, ?)",
              batch.published_ms, batch.first_seq, batch.last_seq);
    if (batch.prune_before)
        conn.exec("DELETE FROM relay_batches WHERE published_ms < ?", *batch.prune_before);
}

}  // namespace ordinal::sqlite
