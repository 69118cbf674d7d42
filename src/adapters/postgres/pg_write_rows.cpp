// Over 400 lines for a reason: every statement of the write model (row reads, locks, the batch's
// one write, outbox and idempotency rows) next to the others, so their column lists stay in step.
// Twin of sqlite_write_rows.cpp on purpose: the write model's row statements in PostgreSQL's
// dialect and client library (docs/building.md#repeated-code).
#include "adapters/postgres/pg_write_rows.h"

#include <algorithm>

#include "adapters/postgres/pg_array_literal.h"
#include "codec/event_json.h"

namespace ordinal::pg {
namespace {

const std::string kSelectEvents =
    "SELECT seq, event_id::text, stream_type, stream_id, version, type, occurred_at, causation_id, "
    "schema_version, data, traceparent, tracestate FROM events ";

// The pending events: the outbox rows, in seq order, joined to their events by primary key.
const std::string kSelectPending =
    "SELECT e.seq, e.event_id::text, e.stream_type, e.stream_id, e.version, e.type, "
    "e.occurred_at, e.causation_id, e.schema_version, e.data, e.traceparent, e.tracestate "
    "FROM outbox_pending p "
    "JOIN events e ON e.seq = p.seq ";

[[noreturn]] void corrupt(const std::string& what) {
    throw_internal("corrupt row: " + what);
}

OutboxRow outbox_row(const Result& r, int i) {
    return OutboxRow{r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3),  r.int64(i, 4),
                     r.text(i, 5),  r.text(i, 6), r.text(i, 7), r.int64(i, 8), r.text(i, 9)};
}

// kSelectEvents and kSelectPending: the row, then its trace context (NULL, read as empty, for
// events stored before there was one).
std::vector<StoredEvent> read_events(const Result& r, EventForm form = EventForm::Decoded) {
    std::vector<StoredEvent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        OutboxRow row = outbox_row(r, i);
        row.traceparent = r.text(i, 10);
        row.tracestate = r.text(i, 11);
        out.push_back(form == EventForm::Envelope ? outbox_row_as_stored(row)
                                                  : decode_outbox_row(row));
    }
    return out;
}

const char* const kProductColumns =
    "sku, name, currency, price_minor, stock, reserved, stock_seq, version";
const char* const kOrderColumns =
    "order_id, user_id, status, currency, lines, total_minor, version, created_at, updated_at";

// The products named ($1) and those of the orders ($2: a cancel releases their stock), locked in
// sku order: the skus sorted, then each row looked up by primary key and locked in a LATERAL
// subquery, so the nested loop takes the locks in that order. Written this way because the
// planner costs a scan of a small products table below a few key lookups: `sku = ANY(...)` on
// 1,000 products was run as a sequential scan checking every row version against every sku
// (texteq and visibility checks were the top of PostgreSQL's profile under issue 15's load), and
// `sku = ANY($1) OR sku IN (...)` before it scanned the whole table at any size.
const char* const kLockProducts =
    " FROM (SELECT s FROM (SELECT unnest($1::text[]) UNION "
    "SELECT l->>'sku' FROM orders o, jsonb_array_elements(o.lines::jsonb) l "
    "WHERE o.order_id = ANY($2::text[])) u(s) ORDER BY s) k, "
    "LATERAL (SELECT * FROM products WHERE sku = k.s FOR UPDATE) p ORDER BY sku";

}  // namespace

StoredEvent read_event(const Result& r, int i) {
    return decode_outbox_row(outbox_row(r, i));
}

Product read_product(const Result& r, int i) {
    Product p;
    p.sku = r.text(i, 0);
    p.name = r.text(i, 1);
    p.currency = r.text(i, 2);
    p.price_minor = r.int64(i, 3);
    p.stock = r.opt_int64(i, 4);
    p.reserved = r.int64(i, 5);
    p.stock_seq = r.int64(i, 6);
    p.version = r.int64(i, 7);
    return p;
}

Order read_order(const Result& r, int i) {
    Order o;
    o.id = r.text(i, 0);
    o.user_id = r.text(i, 1);
    const auto status = parse_order_status(r.text(i, 2));
    if (!status) corrupt("order " + o.id + " has status '" + r.text(i, 2) + "'");
    o.status = *status;
    o.currency = r.text(i, 3);
    auto lines = decode_order_lines(r.text(i, 4));
    if (!lines) corrupt("order " + o.id + " lines: " + lines.error());
    o.lines = std::move(*lines);
    o.total_minor = r.int64(i, 5);
    o.version = r.int64(i, 6);
    o.created_at = r.text(i, 7);
    o.updated_at = r.text(i, 8);
    return o;
}

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
        conn.exec(std::string("SELECT 1") + kLockProducts, skus, order_ids);
    }
}

Statement lock_orders_statement(const std::vector<std::string>& order_ids) {
    return statement(std::string("SELECT ") + kOrderColumns +
                         " FROM orders WHERE order_id = ANY($1::text[]) ORDER BY order_id "
                         "FOR UPDATE",
                     order_ids);
}

std::vector<Order> read_orders(const Result& r) {
    std::vector<Order> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_order(r, i));
    return out;
}

Statement lock_products_statement(const std::vector<std::string>& skus,
                                  const std::vector<std::string>& order_ids) {
    return statement(std::string("SELECT ") + kProductColumns + kLockProducts, skus, order_ids);
}

std::vector<Product> read_products(const Result& r) {
    std::vector<Product> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_product(r, i));
    return out;
}

Statement idempotency_many_statement(const std::vector<std::string>& keys) {
    return statement(
        "SELECT key, fingerprint, command_type, event_id::text, stream_type, stream_id, version, "
        "token, created_ms FROM idempotency WHERE key = ANY($1::text[])",
        keys);
}

std::vector<IdempotencyRecord> read_idempotency_records(const Result& r) {
    std::vector<IdempotencyRecord> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        IdempotencyRecord rec;
        rec.key = r.text(i, 0);
        rec.fingerprint = r.text(i, 1);
        rec.command_type = r.text(i, 2);
        rec.ack.duplicate = false;
        rec.ack.event_id = r.text(i, 3);
        rec.ack.stream.type = parse_stored_stream_type(r.text(i, 4));
        rec.ack.stream.id = r.text(i, 5);
        rec.ack.version = r.int64(i, 6);
        rec.ack.consistency_token = r.text(i, 7);
        rec.created_unix_ms = r.int64(i, 8);
        out.push_back(std::move(rec));
    }
    return out;
}

Statement write_batch_statement(const std::vector<Product>& products,
                                const std::vector<Order>& orders,
                                const std::vector<PendingEvent>& events,
                                const std::vector<IdempotencyRecord>& records) {
    ArrayLiteral p_sku, p_name, p_currency, p_price, p_stock, p_reserved, p_seq, p_version;
    for (const Product& p : products) {
        p_sku.add(p.sku);
        p_name.add(p.name);
        p_currency.add(p.currency);
        p_price.add(p.price_minor);
        p_stock.add(p.stock);
        p_reserved.add(p.reserved);
        p_seq.add(p.stock_seq);
        p_version.add(p.version);
    }
    ArrayLiteral o_id, o_user, o_status, o_currency, o_lines, o_total, o_version, o_created,
        o_updated;
    for (const Order& o : orders) {
        o_id.add(o.id);
        o_user.add(o.user_id);
        o_status.add(std::string(order_status_name(o.status)));
        o_currency.add(o.currency);
        o_lines.add(encode_order_lines(o.lines));
        o_total.add(o.total_minor);
        o_version.add(o.version);
        o_created.add(o.created_at);
        o_updated.add(o.updated_at);
    }
    ArrayLiteral e_id, e_stype, e_sid, e_version, e_type, e_at, e_cause, e_schema, e_data, e_ms,
        e_parent, e_state;
    for (const PendingEvent& pe : events) {
        const Event& e = pe.event;
        e_id.add(e.event_id);
        e_stype.add(std::string(stream_type_name(e.stream.type)));
        e_sid.add(e.stream.id);
        e_version.add(e.version);
        e_type.add(std::string(event_type_name(e.data)));
        e_at.add(e.occurred_at);
        e_cause.add(e.causation_id);
        e_schema.add(static_cast<std::int64_t>(schema_version_of(e.data)));  // as encoded
        e_data.add(encode_event_data(e.data));
        e_ms.add(pe.created_ms);
        e_parent.add(pe.trace.traceparent);
        e_state.add(pe.trace.tracestate);
    }
    ArrayLiteral i_key, i_fp, i_type, i_event, i_stype, i_sid, i_version, i_token, i_ms;
    for (const IdempotencyRecord& rec : records) {
        i_key.add(rec.key);
        i_fp.add(rec.fingerprint);
        i_type.add(rec.command_type);
        i_event.add(rec.ack.event_id);
        i_stype.add(std::string(stream_type_name(rec.ack.stream.type)));
        i_sid.add(rec.ack.stream.id);
        i_version.add(rec.ack.version);
        i_token.add(rec.ack.consistency_token);
        i_ms.add(rec.created_unix_ms);
    }
    // One statement, five data-modifying CTEs (each table once, each row at most once). The
    // events are inserted in array order, so seq follows the order the commands ran in; each
    // gets its outbox row in the same statement.
    return statement(
        "WITH p AS (INSERT INTO products (sku, name, currency, price_minor, stock, reserved, "
        "stock_seq, version) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], "
        "$6::bigint[], $7::bigint[], $8::bigint[]) "
        "ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, currency = EXCLUDED.currency, "
        "price_minor = EXCLUDED.price_minor, stock = EXCLUDED.stock, reserved = EXCLUDED.reserved, "
        "stock_seq = EXCLUDED.stock_seq, version = EXCLUDED.version), "
        "o AS (INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, "
        "version, created_at, updated_at) "
        "SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], "
        "$14::bigint[], $15::bigint[], $16::text[], $17::text[]) "
        "ON CONFLICT (order_id) DO UPDATE SET user_id = EXCLUDED.user_id, status = "
        "EXCLUDED.status, currency = EXCLUDED.currency, lines = EXCLUDED.lines, total_minor = "
        "EXCLUDED.total_minor, version = EXCLUDED.version, created_at = EXCLUDED.created_at, "
        "updated_at = EXCLUDED.updated_at), "
        "e AS (INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
        "causation_id, schema_version, data, created_ms, traceparent, tracestate) "
        "SELECT a, b, c, d, e, f, g, h, i, j, NULLIF(k, ''), NULLIF(l, '') FROM unnest("
        "$18::uuid[], $19::text[], $20::text[], $21::bigint[], $22::text[], $23::text[], "
        "$24::text[], $25::int[], $26::text[], $27::bigint[], $37::text[], $38::text[]) "
        "WITH ORDINALITY AS x(a, b, c, d, e, f, g, h, i, j, k, l, n) ORDER BY n "
        "RETURNING seq, stream_hash, created_ms), "
        "q AS (INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e) "
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, version, token, created_ms) "
        "SELECT * FROM unnest($28::text[], $29::text[], $30::text[], $31::uuid[], $32::text[], "
        "$33::text[], $34::bigint[], $35::text[], $36::bigint[])",
        p_sku.str(), p_name.str(), p_currency.str(), p_price.str(), p_stock.str(), p_reserved.str(),
        p_seq.str(), p_version.str(), o_id.str(), o_user.str(), o_status.str(), o_currency.str(),
        o_lines.str(), o_total.str(), o_version.str(), o_created.str(), o_updated.str(), e_id.str(),
        e_stype.str(), e_sid.str(), e_version.str(), e_type.str(), e_at.str(), e_cause.str(),
        e_schema.str(), e_data.str(), e_ms.str(), i_key.str(), i_fp.str(), i_type.str(),
        i_event.str(), i_stype.str(), i_sid.str(), i_version.str(), i_token.str(), i_ms.str(),
        e_parent.str(), e_state.str());
}

void insert_event(Connection& conn, const Event& e, const TraceContext& trace,
                  std::int64_t created_ms) {
    conn.exec(
        "WITH e AS (INSERT INTO events (event_id, stream_type, stream_id, version, type, "
        "occurred_at, causation_id, schema_version, data, created_ms, traceparent, tracestate) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULLIF($11::text, ''), NULLIF($12::text, "
        "'')) "
        "RETURNING seq, stream_hash, created_ms) "
        "INSERT INTO outbox_pending (seq, stream_hash, created_ms) SELECT * FROM e",
        e.event_id, std::string(stream_type_name(e.stream.type)), e.stream.id, e.version,
        std::string(event_type_name(e.data)), e.occurred_at, e.causation_id,
        schema_version_of(e.data), encode_event_data(e.data), created_ms, trace.traceparent,
        trace.tracestate);
}

std::vector<StoredEvent> select_events_after(Connection& conn, std::int64_t after_seq,
                                             std::size_t limit) {
    Result r = conn.exec(kSelectEvents + "WHERE seq > $1 ORDER BY seq LIMIT $2", after_seq, limit);
    return read_events(r);
}

std::vector<StoredEvent> select_pending_events(Connection& conn, std::size_t limit) {
    Result r = conn.exec(kSelectPending + "ORDER BY p.seq LIMIT $1", limit);
    return read_events(r);
}

std::vector<StoredEvent> select_pending_events_in(Connection& conn, std::int64_t partitions,
                                                  const std::vector<std::int64_t>& owned,
                                                  std::size_t limit,
                                                  const std::vector<std::int64_t>& out,
                                                  EventForm form) {
    if (out.empty()) {
        Result r = conn.exec(kSelectPending +
                                 "WHERE p.stream_hash % $1 = ANY($2::bigint[]) "
                                 "ORDER BY p.seq LIMIT $3",
                             partitions, owned, limit);
        return read_events(r, form);
    }
    // The rows out are left out on the narrow outbox table, before the join: they cost an index
    // step each, not an events row read, sent and decoded. Rows above the highest seq out pass
    // the first test alone; below it (the rows out, and events that committed late) the array
    // is searched (PostgreSQL hashes a long constant array).
    Result r = conn.exec(kSelectPending +
                             "WHERE p.stream_hash % $1 = ANY($2::bigint[]) "
                             "AND (p.seq > $4 OR p.seq <> ALL($5::bigint[])) "
                             "ORDER BY p.seq LIMIT $3",
                         partitions, owned, limit, out.back(), out);
    return read_events(r, form);
}

void mark_events_published(Connection& conn, const std::vector<std::int64_t>& seqs,
                           std::int64_t published_ms, std::optional<std::int64_t> prune_before) {
    if (seqs.empty()) return;
    const auto [lo, hi] = std::minmax_element(seqs.begin(), seqs.end());
    // Several relays share the outbox, and a seq may commit after higher ones were published, so
    // a batch need not cover every seq of its range: then its seqs are kept too (NULL when it
    // does, as one relay owning the whole outbox usually does).
    const bool whole_range = *hi - *lo + 1 == static_cast<std::int64_t>(seqs.size());
    // One statement: drop the rows from the outbox, record the batch's time (and prune old ones
    // when $6 is given: a NULL $6 is a one-time filter, no scan), and move the high-water mark
    // (for stats only) forward.
    conn.exec(
        "WITH marked AS (DELETE FROM outbox_pending WHERE seq = ANY($1::bigint[])), "
        "batch AS (INSERT INTO relay_batches (published_ms, first_seq, last_seq, seqs) VALUES "
        "($2, $3, $4, CASE WHEN $5 THEN NULL ELSE $1::bigint[] END)), "
        "pruned AS (DELETE FROM relay_batches WHERE $6::bigint IS NOT NULL AND published_ms < "
        "$6::bigint) "
        "UPDATE relay_state SET published_seq = GREATEST(published_seq, $4) WHERE id = 1",
        seqs, published_ms, *lo, *hi, whole_range, prune_before);
}

}  // namespace ordinal::pg
