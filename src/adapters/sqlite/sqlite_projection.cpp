// Twin of pg_projection.cpp on purpose: the projection statements in SQLite's dialect and client
// library; which change each event makes is adapters/read_model_changes.h, shared
// (docs/building.md#repeated-code).
#include "adapters/sqlite/sqlite_projection.h"

#include <map>
#include <string>
#include <type_traits>

#include "adapters/read_model_changes.h"
#include "codec/batch_streams.h"
#include "codec/event_json.h"

namespace ordinal::sqlite {
namespace {

[[noreturn]] void reject(std::string message) {
    throw StoreFailure(internal_error(std::move(message)));
}

// This store's statements for the read model's changes (adapters/read_model_changes.h).
class SqliteReadModelChanges {
  public:
    explicit SqliteReadModelChanges(Connection& conn) : conn_(conn) {}

    // A stock figure is only taken when it is newer (higher stock_seq) than what the row holds, so
    // stock changes from different streams may arrive in any order. A product first seen through a
    // stock change gets a version-0 placeholder row, which its ProductUpserted later fills in.
    void apply_stock_changes(const std::vector<StockChange>& changes) {
        for (const StockChange& c : changes) {
            conn_.exec(
                "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
                "version) "
                "VALUES (?1, '', '', 0, ?2, ?3, 0) "
                "ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock, stock_seq = "
                "excluded.stock_seq "
                "WHERE excluded.stock_seq > products_view.stock_seq",
                c.sku, c.stock, c.stock_seq);
        }
    }

    // Fencing: a row's version never moves back, whoever writes (one writer per SQLite file today,
    // but the rule is the read model's, as on PostgreSQL): a write of a version the row already
    // passed is dropped, since the row holds its effect.
    void set_order_status(const Event& e, OrderStatus status) {
        const auto changed = conn_.exec(
            "UPDATE orders_view SET status = ?1, version = ?2, updated_at = ?3 "
            "WHERE order_id = ?4 AND version < ?2",
            order_status_name(status), e.version, e.occurred_at, e.stream.id);
        if (changed == 1) return;
        if (!conn_.query("SELECT 1 FROM orders_view WHERE order_id = ?", e.stream.id).next())
            reject("projection: no order row for " + describe_stream(e.stream));
    }

    void upsert_product(const Event& e, const ProductUpserted& d) {
        // In an upsert's SET every right-hand side sees the old row, so stock and stock_seq are
        // judged against the same old stock_seq.
        conn_.exec(
            "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
            "version) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, currency = excluded.currency, "
            "price_minor = excluded.price_minor, version = excluded.version, "
            "stock = CASE WHEN excluded.stock_seq > products_view.stock_seq THEN excluded.stock "
            "ELSE products_view.stock END, "
            "stock_seq = max(products_view.stock_seq, excluded.stock_seq) "
            "WHERE products_view.version < excluded.version",  // fencing, as in set_order_status
            e.stream.id, d.name, d.currency, d.price_minor, d.stock, d.stock_seq, e.version);
    }

    void insert_order(const Event& e, const OrderPlaced& d) {
        conn_.exec(
            "INSERT INTO orders_view (order_id, user_id, status, currency, items, total_minor, "
            "version, created_at, "
            "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
            "ON CONFLICT (order_id) DO NOTHING",  // fencing, as in set_order_status
            e.stream.id, d.user_id, order_status_name(OrderStatus::Placed), d.currency,
            encode_order_lines(d.items), d.total_minor, e.version, e.occurred_at);
    }

  private:
    Connection& conn_;
};

// The sequencing rule's view of this connection's open transaction.
class SqliteProjectionTransaction final : public ProjectionTransaction {
  public:
    explicit SqliteProjectionTransaction(Connection& conn) : conn_(conn) {}

    std::int64_t applied_version(const StreamKey& stream) override {
        return select_stream_version(conn_, stream);
    }

    void apply(const Event& e) override {
        SqliteReadModelChanges changes(conn_);
        read_model::apply_event(changes, e);
    }

    std::optional<std::int64_t> lowest_dead_letter(const StreamKey& stream,
                                                   std::int64_t applied) override {
        Query q = conn_.query(
            "SELECT MIN(version) FROM dead_letters WHERE stream = ?1 AND (version = 0 OR "
            "version > ?2)",
            describe_stream(stream), applied);
        return q.next() ? q.opt_int64(0) : std::nullopt;
    }

    void insert_dead_letter(const DeadLetter& d) override {
        conn_.exec(
            "INSERT INTO dead_letters (partition, \"offset\", stream, version, event_type, "
            "payload, reason, created_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            d.position.partition, d.position.offset, d.stream, d.version, d.event_type, d.payload,
            d.reason);
    }

    void update_dead_letter_reason(std::int64_t id, const std::string& reason) override {
        conn_.exec("UPDATE dead_letters SET reason = ?1 WHERE id = ?2", reason, id);
    }

    void delete_dead_letter(std::int64_t id) override {
        conn_.exec("DELETE FROM dead_letters WHERE id = ?1", id);
    }

    void savepoint() override { conn_.query("SAVEPOINT retry_event").run(); }
    void release_savepoint() override { conn_.query("RELEASE retry_event").run(); }
    void rollback_to_savepoint() override {
        conn_.query("ROLLBACK TO retry_event").run();
        release_savepoint();
    }

  private:
    Connection& conn_;
};

void advance_position(Connection& conn, const BusPosition& position) {
    conn.exec(
        "INSERT INTO bus_positions (partition, \"offset\") VALUES (?1, ?2) "
        "ON CONFLICT (partition) DO UPDATE SET \"offset\" = max(\"offset\", excluded.\"offset\")",
        position.partition, position.offset);
}

}  // namespace

void record_projection_batch(Connection& conn,
                             std::span<const std::pair<StreamKey, std::int64_t>> advanced,
                             const BatchTime& time) {
    if (advanced.empty()) return;
    conn.exec("INSERT INTO projection_batches (applied_ms, streams) VALUES (?, ?)", time.at_ms,
              encode_batch_streams(advanced));
    if (time.prune_before)
        conn.exec("DELETE FROM projection_batches WHERE applied_ms < ?", *time.prune_before);
}

std::vector<StreamApplyTime> select_stream_apply_times(Connection& conn, const StreamKey& stream,
                                                       std::int64_t since_ms) {
    Query q = conn.query(
        "SELECT applied_ms, streams FROM (SELECT id, applied_ms, streams FROM projection_batches "
        "WHERE applied_ms >= ?1 ORDER BY applied_ms, id LIMIT ?2) WHERE instr(streams, ?3) > 0 "
        "ORDER BY applied_ms, id LIMIT ?4",
        since_ms, kApplyBatchesLookedAt, batch_streams_needle(stream), kApplyBatchesListed);
    std::vector<StreamApplyTime> out;
    while (q.next()) {
        if (const auto version = batch_stream_version(q.text(1), stream))
            out.push_back(StreamApplyTime{*version, q.int64(0)});
    }
    return out;
}

std::int64_t select_stream_version(Connection& conn, const StreamKey& stream) {
    Query q = stream.type == StreamType::Order
                  ? conn.query("SELECT version FROM orders_view WHERE order_id = ?", stream.id)
                  : conn.query("SELECT version FROM products_view WHERE sku = ?", stream.id);
    return q.next() ? q.int64(0) : 0;
}

ProjectionResult project_events(Connection& conn, const ProjectionRules& rules,
                                std::span<const Event> events, const BusPosition& position) {
    SqliteProjectionTransaction tx(conn);
    ProjectionResult result = rules.sequence_events(events, tx);
    advance_position(conn, position);
    return result;
}

std::int64_t claim_partition(Connection& conn, const std::string& partition) {
    conn.exec(
        "INSERT INTO partition_owners (partition, epoch) VALUES (?1, 1) ON CONFLICT (partition) "
        "DO UPDATE SET epoch = epoch + 1",
        partition);
    Query q = conn.query("SELECT epoch FROM partition_owners WHERE partition = ?", partition);
    return q.next() ? q.int64(0) : 0;
}

ProjectionResult project_delivery(Connection& conn, const ProjectionRules& rules,
                                  const Delivery& delivery, std::span<const std::int64_t> offsets) {
    // Fencing, as on PostgreSQL: checked first, inside the write transaction that also serializes
    // it with a claim, so a refused delivery writes nothing.
    if (delivery.owner_epoch != 0) {
        Query q = conn.query("SELECT epoch FROM partition_owners WHERE partition = ?",
                             delivery.position.partition);
        const std::int64_t now = q.next() ? q.int64(0) : 0;
        if (now != delivery.owner_epoch) {
            throw StoreFailure(StoreError{StoreError::Kind::Fenced,
                                          "partition " + delivery.position.partition +
                                              " is at owner epoch " + std::to_string(now) +
                                              ", this delivery's is " +
                                              std::to_string(delivery.owner_epoch)});
        }
    }
    SqliteProjectionTransaction tx(conn);
    ProjectionResult result = rules.sequence_delivery(delivery, offsets, tx, encode_event_envelope);
    advance_position(conn, delivery.position);
    return result;
}

DeadLetterRetry retry_dead_letters(Connection& conn, const ProjectionRules& rules,
                                   std::optional<std::int64_t> id) {
    std::vector<RetryRow> rows;
    {
        Query q = id ? conn.query(
                           "SELECT id, payload FROM dead_letters WHERE id = ?1 AND discarded_at "
                           "IS NULL",
                           *id)
                     : conn.query(
                           "SELECT id, payload FROM dead_letters WHERE discarded_at IS NULL "
                           "ORDER BY id");
        while (q.next()) rows.push_back(RetryRow{q.int64(0), decode_event_envelope(q.text(1))});
    }
    SqliteProjectionTransaction tx(conn);
    return rules.sequence_retry(std::move(rows), tx);
}

std::vector<DeadLetter> select_dead_letters(Connection& conn, const DeadLetterQuery& query) {
    std::vector<DeadLetter> out;
    // One statement for every combination of filters: an empty parameter matches everything.
    Query q = conn.query(
        "SELECT id, partition, \"offset\", stream, version, event_type, payload, reason, "
        "created_at FROM dead_letters WHERE discarded_at IS NULL AND (?1 = '' OR event_type = ?1) "
        "AND (?2 = '' OR instr(reason, ?2) > 0) AND (?3 = '' OR created_at >= ?3) AND "
        "(?4 = '' OR created_at < ?4) ORDER BY id LIMIT ?5",
        query.event_type, query.reason, query.since, query.until,
        static_cast<std::int64_t>(query.limit));
    while (q.next()) {
        out.push_back(DeadLetter{q.int64(0), BusPosition{q.text(1), q.int64(2)}, q.text(3),
                                 q.int64(4), q.text(5), q.text(6), q.text(7), q.text(8)});
    }
    return out;
}

bool discard_dead_letter(Connection& conn, std::int64_t id, const std::string& reason) {
    return conn.exec(
               "UPDATE dead_letters SET discard_reason = CASE WHEN discarded_at IS NULL THEN ?1 "
               "ELSE discard_reason END, discarded_at = coalesce(discarded_at, "
               "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE id = ?2",
               reason, id) == 1;
}

std::int64_t count_dead_letters(Connection& conn) {
    Query q = conn.query("SELECT COUNT(*) FROM dead_letters WHERE discarded_at IS NULL");
    return q.next() ? q.int64(0) : 0;
}

}  // namespace ordinal::sqlite
