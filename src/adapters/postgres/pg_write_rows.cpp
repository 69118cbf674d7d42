#include "adapters/postgres/pg_write_rows.h"

#include "codec/event_json.h"

namespace ordinal::pg {
namespace {

const std::string kSelectEvents =
    "SELECT seq, event_id::text, stream_type, stream_id, version, type, occurred_at, causation_id, "
    "schema_version, data FROM events ";

[[noreturn]] void corrupt(const std::string& what) {
    throw_internal("corrupt row: " + what);
}

std::vector<StoredEvent> read_events(const Result& r) {
    std::vector<StoredEvent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        StoredEvent s;
        s.seq = r.int64(i, 0);
        Event& e = s.event;
        e.event_id = r.text(i, 1);
        e.stream.type = parse_stored_stream_type(r.text(i, 2));
        e.stream.id = r.text(i, 3);
        e.version = r.int64(i, 4);
        const std::string type = r.text(i, 5);
        e.occurred_at = r.text(i, 6);
        e.causation_id = r.text(i, 7);
        e.schema_version = static_cast<int>(r.int64(i, 8));
        auto data = decode_event_data(type, r.text(i, 9));
        if (!data) corrupt("event seq " + std::to_string(s.seq) + ": " + data.error());
        e.data = std::move(*data);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

StreamType parse_stored_stream_type(const std::string& text) {
    if (auto type = parse_stream_type(text)) return *type;
    corrupt("unknown stream type '" + text + "'");
}

std::optional<IdempotencyRecord> select_idempotency(Connection& conn, const std::string& key) {
    Result r = conn.exec(
        "SELECT fingerprint, command_type, event_id::text, stream_type, stream_id, version, token, "
        "created_ms "
        "FROM idempotency WHERE key = $1",
        key);
    if (r.rows() == 0) return std::nullopt;
    IdempotencyRecord rec;
    rec.key = key;
    rec.fingerprint = r.text(0, 0);
    rec.command_type = r.text(0, 1);
    rec.ack.duplicate = false;
    rec.ack.event_id = r.text(0, 2);
    rec.ack.stream.type = parse_stored_stream_type(r.text(0, 3));
    rec.ack.stream.id = r.text(0, 4);
    rec.ack.version = r.int64(0, 5);
    rec.ack.consistency_token = r.text(0, 6);
    rec.created_unix_ms = r.int64(0, 7);
    return rec;
}

void insert_idempotency(Connection& conn, const IdempotencyRecord& rec) {
    conn.exec(
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, version, "
        "token, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        rec.key, rec.fingerprint, rec.command_type, rec.ack.event_id,
        std::string(stream_type_name(rec.ack.stream.type)), rec.ack.stream.id, rec.ack.version,
        rec.ack.consistency_token, rec.created_unix_ms);
}

std::optional<Product> select_product(Connection& conn, const std::string& sku, bool for_update) {
    Result r = conn.exec(
        std::string("SELECT name, currency, price_minor, stock, reserved, stock_seq, version "
                    "FROM products WHERE sku = $1") +
            (for_update ? " FOR UPDATE" : ""),
        sku);
    if (r.rows() == 0) return std::nullopt;
    Product p;
    p.sku = sku;
    p.name = r.text(0, 0);
    p.currency = r.text(0, 1);
    p.price_minor = r.int64(0, 2);
    p.stock = r.opt_int64(0, 3);
    p.reserved = r.int64(0, 4);
    p.stock_seq = r.int64(0, 5);
    p.version = r.int64(0, 6);
    return p;
}

void upsert_product(Connection& conn, const Product& p) {
    conn.exec(
        "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, stock_seq, "
        "version) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (sku) DO UPDATE SET name = $2, currency = $3, price_minor = $4, stock = $5, "
        "reserved = $6, stock_seq = $7, version = $8",
        p.sku, p.name, p.currency, p.price_minor, p.stock, p.reserved, p.stock_seq, p.version);
}

std::optional<Order> select_order(Connection& conn, const std::string& order_id, bool for_update) {
    Result r = conn.exec(
        std::string("SELECT user_id, status, currency, lines, total_minor, version, created_at, "
                    "updated_at FROM orders WHERE order_id = $1") +
            (for_update ? " FOR UPDATE" : ""),
        order_id);
    if (r.rows() == 0) return std::nullopt;
    Order o;
    o.id = order_id;
    o.user_id = r.text(0, 0);
    const auto status = parse_order_status(r.text(0, 1));
    if (!status) corrupt("order " + order_id + " has status '" + r.text(0, 1) + "'");
    o.status = *status;
    o.currency = r.text(0, 2);
    auto lines = decode_order_lines(r.text(0, 3));
    if (!lines) corrupt("order " + order_id + " lines: " + lines.error());
    o.lines = std::move(*lines);
    o.total_minor = r.int64(0, 4);
    o.version = r.int64(0, 5);
    o.created_at = r.text(0, 6);
    o.updated_at = r.text(0, 7);
    return o;
}

void upsert_order(Connection& conn, const Order& o) {
    conn.exec(
        "INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, "
        "created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (order_id) DO UPDATE SET user_id = $2, status = $3, currency = $4, lines = "
        "$5, "
        "total_minor = $6, version = $7, created_at = $8, updated_at = $9",
        o.id, o.user_id, std::string(order_status_name(o.status)), o.currency,
        encode_order_lines(o.lines), o.total_minor, o.version, o.created_at, o.updated_at);
}

void lock_rows(Connection& conn, const std::vector<std::string>& order_ids,
               const std::vector<std::string>& skus) {
    if (!order_ids.empty()) {
        conn.exec(
            "SELECT 1 FROM orders WHERE order_id = ANY($1::text[]) ORDER BY order_id FOR UPDATE",
            order_ids);
    }
    if (!order_ids.empty() || !skus.empty()) {
        // The products of the orders (a cancel releases their stock) join those named directly.
        conn.exec(
            "SELECT 1 FROM products WHERE sku = ANY($1::text[]) OR sku IN ("
            "SELECT l->>'sku' FROM orders o, jsonb_array_elements(o.lines::jsonb) l "
            "WHERE o.order_id = ANY($2::text[])) ORDER BY sku FOR UPDATE",
            skus, order_ids);
    }
}

void insert_event(Connection& conn, const Event& e, std::int64_t created_ms) {
    conn.exec(
        "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
        "causation_id, "
        "schema_version, data, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        e.event_id, std::string(stream_type_name(e.stream.type)), e.stream.id, e.version,
        std::string(event_type_name(e.data)), e.occurred_at, e.causation_id, e.schema_version,
        encode_event_data(e.data), created_ms);
}

std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit) {
    Result r = conn.exec(kSelectEvents + "WHERE seq > $1 ORDER BY seq LIMIT $2", after_seq, limit);
    return read_events(r);
}

std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit) {
    Result r = conn.exec(kSelectEvents + "WHERE NOT published ORDER BY seq LIMIT $1", limit);
    return read_events(r);
}

void mark_events_published(Connection& conn, const std::vector<std::int64_t>& seqs) {
    // One statement: flag the rows and move the high-water mark (for stats only) forward.
    conn.exec(
        "WITH marked AS (UPDATE events SET published = true WHERE seq = ANY($1::bigint[]) AND NOT "
        "published "
        "RETURNING seq) "
        "UPDATE relay_state SET published_seq = GREATEST(published_seq, (SELECT COALESCE(MAX(s), "
        "0) FROM "
        "unnest($1::bigint[]) s)) WHERE id = 1",
        seqs);
}

}  // namespace ordinal::pg
