// Twin of sqlite_projection.cpp on purpose: the projection statements in PostgreSQL's dialect and
// client library; which change each event makes is adapters/read_model_changes.h, shared
// (docs/building.md#repeated-code).
// The PostgreSQL read store's projection (pg_projection.h). Semantics match the SQLite read
// store: a stream's applied version is its row's version, the sequencing rule is the one the
// store was given (ports/projection_rules.h), product stock follows stock_seq whatever order it
// arrives in, bus positions only move forward.
#include "adapters/postgres/pg_projection.h"

#include <iterator>
#include <map>
#include <optional>

#include "adapters/postgres/pg_array_literal.h"
#include "adapters/postgres/pg_product_row_locks.h"
#include "adapters/postgres/pg_write_rows.h"
#include "adapters/read_model_changes.h"
#include "codec/batch_streams.h"
#include "codec/event_json.h"
#include "domain/text.h"

namespace ordinal::pg {

std::int64_t select_stream_version(Connection& conn, const StreamKey& stream) {
    Result r = stream.type == StreamType::Order
                   ? conn.exec("SELECT version FROM orders_view WHERE order_id = $1", stream.id)
                   : conn.exec("SELECT version FROM products_view WHERE sku = $1", stream.id);
    return r.rows() ? r.int64(0, 0) : 0;
}

std::string from_hex(std::string_view hex) {
    auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1]));
    return out;
}

namespace {

[[noreturn]] void reject(const std::string& message) {
    pg::throw_internal(message);
}

// This store's statements for the read model's changes (adapters/read_model_changes.h).
class PgReadModelChanges {
  public:
    explicit PgReadModelChanges(Connection& conn) : conn_(conn) {}

    void apply_stock_changes(const std::vector<StockChange>& changes) {
        for (const StockChange& c : changes) {
            conn_.exec(
                "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
                "version) "
                "VALUES ($1, '', '', 0, $2, $3, 0) "
                "ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock, stock_seq = "
                "excluded.stock_seq "
                "WHERE excluded.stock_seq > products_view.stock_seq",
                c.sku, c.stock, c.stock_seq);
        }
    }

    // Fencing: a row's version never moves back, whoever writes. The sequencer applies only a
    // stream's next version, but a projector that lost its partitions (a zombie finishing its
    // batch) read the version before the new owner committed later ones; its write then matches no
    // row of a lower version and is dropped, which is right: the row already holds this event's
    // effect.
    void set_order_status(const Event& e, OrderStatus status) {
        Result r = conn_.exec(
            "UPDATE orders_view SET status = $1, version = $2, updated_at = $3 "
            "WHERE order_id = $4 AND version < $2",
            std::string(order_status_name(status)), e.version, e.occurred_at, e.stream.id);
        if (r.affected() == 1) return;
        if (conn_.exec("SELECT 1 FROM orders_view WHERE order_id = $1", e.stream.id).rows() == 0)
            reject("projection: no order row for " + describe_stream(e.stream));
    }

    void upsert_product(const Event& e, const ProductUpserted& d) {
        conn_.exec(
            "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
            "version) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, currency = excluded.currency, "
            "price_minor = excluded.price_minor, version = excluded.version, "
            "stock = CASE WHEN excluded.stock_seq > products_view.stock_seq THEN excluded.stock "
            "ELSE products_view.stock END, "
            "stock_seq = GREATEST(products_view.stock_seq, excluded.stock_seq) "
            "WHERE products_view.version < excluded.version",  // fencing, as in set_order_status
            e.stream.id, d.name, d.currency, d.price_minor, d.stock, d.stock_seq, e.version);
    }

    void insert_order(const Event& e, const OrderPlaced& d) {
        conn_.exec(
            "INSERT INTO orders_view (order_id, user_id, status, currency, items, total_minor, "
            "version, created_at, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
            "ON CONFLICT (order_id) DO NOTHING",  // fencing, as in set_order_status
            e.stream.id, d.user_id, std::string(order_status_name(OrderStatus::Placed)), d.currency,
            encode_order_lines(d.items), d.total_minor, e.version, e.occurred_at);
    }

  private:
    Connection& conn_;
};

// Deliveries (any number of projectors at once) take this lock shared, a retry of dead letters
// exclusive: a retry may apply a stream that a projector is applying too.
inline constexpr std::int32_t kDeadLetterLockSpace = 0x6f726444;  // 'ordD'

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 0xF];
    }
    return out;
}

// The sequencing rule's view of this connection's open transaction. Text columns get
// printable_utf8: a bus message may carry any bytes, and a text value PostgreSQL refuses would
// fail the delivery over and over.
//
// Statements per batch, not per event: the applied versions of the batch's streams are read in
// one statement up front (prefetch), and OrderPlaced rows with their stock changes are buffered
// and written in two statements (flush) before anything that could observe or conflict with
// them: any other event's statement, a version read not prefetched, a savepoint, the end of the
// batch. A stock change only takes effect over a lower stock_seq, so the buffer keeps the highest
// per sku, which ends where applying them one by one would.
class PgProjectionTransaction final : public ProjectionTransaction {
  public:
    explicit PgProjectionTransaction(Connection& conn) : conn_(conn) {}

    // `before` (BEGIN, a lock) goes in the same round trip, ahead of the read; their results are
    // returned, in order.
    std::vector<Result> prefetch(std::vector<StreamKey> streams,
                                 std::vector<pg::Statement> before) {
        std::vector<std::string> orders, skus;
        for (const StreamKey& key : streams)
            (key.type == StreamType::Order ? orders : skus).push_back(key.id);
        if (orders.empty() && skus.empty()) {
            if (before.empty()) return {};
            return conn_.exec_pipeline(before);
        }
        before.push_back(pg::statement(
            "SELECT 0, order_id, version FROM orders_view WHERE order_id = ANY($1::text[]) "
            "UNION ALL SELECT 1, sku, version FROM products_view WHERE sku = ANY($2::text[])",
            orders, skus));
        std::vector<Result> results = conn_.exec_pipeline(before);
        const Result& r = results.back();
        for (StreamKey& key : streams) prefetched_.emplace(std::move(key), 0);
        for (int i = 0; i < r.rows(); ++i) {
            const StreamType type = r.int64(i, 0) == 0 ? StreamType::Order : StreamType::Product;
            prefetched_[StreamKey{type, r.text(i, 1)}] = r.int64(i, 2);
        }
        results.pop_back();
        return results;
    }

    std::int64_t applied_version(const StreamKey& stream) override {
        // Each stream's first read only: later ones must see this batch's own writes.
        if (auto it = prefetched_.find(stream); it != prefetched_.end()) {
            const std::int64_t v = it->second;
            prefetched_.erase(it);
            return v;
        }
        flush();
        return select_stream_version(conn_, stream);
    }

    void apply(const Event& e) override {
        if (const auto* placed = std::get_if<OrderPlaced>(&e.data); placed && !in_savepoint_) {
            buffer(e, *placed);
            return;
        }
        flush();
        PgReadModelChanges changes(conn_);
        read_model::apply_event(changes, e);
    }

    // Writes what is buffered, in one round trip; the batch's owner calls finish() at its end.
    void flush() { finish({}); }

    // Writes what is buffered and then `after` (the position, COMMIT), in one round trip.
    void finish(std::vector<pg::Statement> after) {
        std::vector<pg::Statement> writes = take_buffered();
        writes.insert(writes.end(), std::make_move_iterator(after.begin()),
                      std::make_move_iterator(after.end()));
        if (!writes.empty()) conn_.exec_pipeline(writes);
    }

    std::optional<std::int64_t> lowest_dead_letter(const StreamKey& stream,
                                                   std::int64_t applied) override {
        Result r = conn_.exec(
            "SELECT MIN(version) FROM dead_letters WHERE stream = $1 AND (version = 0 OR "
            "version > $2)",
            describe_stream(stream), applied);
        return r.rows() ? r.opt_int64(0, 0) : std::nullopt;
    }

    void insert_dead_letter(const DeadLetter& d) override {
        conn_.exec(
            "INSERT INTO dead_letters (partition, \"offset\", stream, version, event_type, "
            "payload, reason) VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'), $7)",
            printable_utf8(d.position.partition), d.position.offset, printable_utf8(d.stream),
            d.version, printable_utf8(d.event_type), to_hex(d.payload), printable_utf8(d.reason));
    }

    void update_dead_letter_reason(std::int64_t id, const std::string& reason) override {
        conn_.exec("UPDATE dead_letters SET reason = $1 WHERE id = $2", printable_utf8(reason), id);
    }

    void delete_dead_letter(std::int64_t id) override {
        conn_.exec("DELETE FROM dead_letters WHERE id = $1", id);
    }

    // Inside a savepoint every event is written at once, so that its failure is its own.
    void savepoint() override {
        flush();
        conn_.exec_script("SAVEPOINT retry_event");
        in_savepoint_ = true;
    }
    void release_savepoint() override {
        in_savepoint_ = false;
        conn_.exec_script("RELEASE SAVEPOINT retry_event");
    }
    void rollback_to_savepoint() override {
        conn_.exec_script("ROLLBACK TO SAVEPOINT retry_event");
        release_savepoint();
    }

  private:
    std::vector<pg::Statement> take_buffered() {
        std::vector<pg::Statement> out;
        if (!o_id.empty()) {
            out.push_back(pg::statement(
                "INSERT INTO orders_view (order_id, user_id, status, currency, items, "
                "total_minor, version, created_at, updated_at) "
                "SELECT a, b, c, d, e, f, g, h, h FROM unnest($1::text[], $2::text[], $3::text[], "
                "$4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[]) "
                "AS x(a, b, c, d, e, f, g, h) "
                "ON CONFLICT (order_id) DO NOTHING",  // fencing, as in set_order_status
                o_id.str(), o_user.str(), o_status.str(), o_currency.str(), o_items.str(),
                o_total.str(), o_version.str(), o_at.str()));
            o_id = o_user = o_status = o_currency = o_items = o_total = o_version = o_at = {};
        }
        if (!stock_.empty()) {
            pg::ArrayLiteral sku, stock, seq;
            for (const auto& [k, change] : stock_) {
                sku.add(k);
                stock.add(change.first);
                seq.add(change.second);
            }
            out.push_back(pg::statement(
                "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
                "version) SELECT a, '', '', 0, b, c, 0 FROM unnest($1::text[], $2::bigint[], "
                "$3::bigint[]) AS x(a, b, c) "
                "ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock, stock_seq = "
                "excluded.stock_seq WHERE excluded.stock_seq > products_view.stock_seq",
                sku.str(), stock.str(), seq.str()));
            stock_.clear();
        }
        return out;
    }

    void buffer(const Event& e, const OrderPlaced& d) {
        o_id.add(e.stream.id);
        o_user.add(d.user_id);
        o_status.add(std::string(order_status_name(OrderStatus::Placed)));
        o_currency.add(d.currency);
        o_items.add(encode_order_lines(d.items));
        o_total.add(d.total_minor);
        o_version.add(e.version);
        o_at.add(e.occurred_at);
        for (const StockChange& c : d.stock_changes) {
            auto [it, inserted] = stock_.try_emplace(c.sku, c.stock, c.stock_seq);
            if (!inserted && c.stock_seq > it->second.second) it->second = {c.stock, c.stock_seq};
        }
    }

    Connection& conn_;
    std::map<StreamKey, std::int64_t> prefetched_;
    bool in_savepoint_ = false;
    pg::ArrayLiteral o_id, o_user, o_status, o_currency, o_items, o_total, o_version, o_at;
    std::map<std::string, std::pair<std::optional<std::int64_t>, std::int64_t>> stock_;
};

// Moves the partition's position forward (never back).
pg::Statement advance_position(const BusPosition& position) {
    return pg::statement(
        "INSERT INTO bus_positions (partition, \"offset\") VALUES ($1, $2) "
        "ON CONFLICT (partition) DO UPDATE SET \"offset\" = GREATEST(bus_positions.\"offset\", "
        "excluded.\"offset\")",
        position.partition, position.offset);
}

// The batch's time row (ports/batch_times.h), with the rows older than a cutoff deleted in the
// same statement when a prune is due; none when the batch advanced no stream.
std::optional<pg::Statement> record_batch(
    std::span<const std::pair<StreamKey, std::int64_t>> advanced, BatchTimesPruning& pruning) {
    if (advanced.empty()) return std::nullopt;
    // A NULL $2 (no prune due) is a one-time filter: no scan.
    const BatchTime time = pruning.next();
    return pg::statement(
        "WITH pruned AS (DELETE FROM projection_batches WHERE $2::bigint IS NOT NULL AND "
        "applied_ms < $2::bigint) "
        "INSERT INTO projection_batches (applied_ms, streams) VALUES ($3, $1)",
        encode_batch_streams(advanced), time.prune_before, time.at_ms);
}

// Fencing (ReadStore::claim_partition): the owner epochs of the fenced partitions of a poll, read
// in the first round trip and locked shared until COMMIT, so that a claim (an update of the row)
// waits for this transaction, and a transaction that begins after a claim sees the new epoch and
// is refused: the client checks the epochs before it sends any write and rolls back. In one
// statement, in partition order: a claim locks one row in a transaction of its own, so no
// claim and projection can wait on each other in a cycle. Nullopt when nothing is fenced (the
// in-process bus): no statement at all.
struct Fence {
    std::map<std::string, std::int64_t> epochs;  // partition -> the epoch its delivery carries

    explicit Fence(std::span<const DeliveryPart> parts) {
        for (const DeliveryPart& part : parts) {
            if (part.delivery->owner_epoch != 0)
                epochs[part.delivery->position.partition] = part.delivery->owner_epoch;
        }
    }

    std::optional<pg::Statement> lock_statement() const {
        if (epochs.empty()) return std::nullopt;
        pg::ArrayLiteral partitions;
        for (const auto& entry : epochs) partitions.add(entry.first);
        return pg::statement(
            "SELECT partition, epoch FROM partition_owners WHERE partition = ANY($1::text[]) "
            "ORDER BY partition FOR SHARE",
            partitions.str());
    }

    // Throws StoreFailure (Fenced) unless every partition's epoch is the one its delivery carries.
    void check(const Result& r) const {
        std::map<std::string, std::int64_t> stored;
        for (int i = 0; i < r.rows(); ++i) stored[r.text(i, 0)] = r.int64(i, 1);
        for (const auto& [partition, epoch] : epochs) {
            const auto it = stored.find(partition);
            const std::int64_t now = it == stored.end() ? 0 : it->second;
            if (now != epoch) {
                throw StoreFailure(StoreError{StoreError::Kind::Fenced,
                                              "partition " + partition + " is at owner epoch " +
                                                  std::to_string(now) + ", this delivery's is " +
                                                  std::to_string(epoch)});
            }
        }
    }
};

// The two round trips every projection transaction here is made of. open(): BEGIN, `locks_first`
// (taken before anything else), the product row locks and the applied versions of `streams`, in
// one pipeline; returns the results of `locks_first`, in order. close(): the writes the
// sequencing rule buffered, `positions`, the dropped placeholders, the batch row and COMMIT, in
// another.
class TwoRoundTrips {
  public:
    TwoRoundTrips(Connection& conn, ProductRowLocks& locks) : tx_(conn), locks_(locks) {}

    PgProjectionTransaction& tx() { return tx_; }

    std::vector<Result> open(std::vector<StreamKey> streams,
                             std::vector<pg::Statement> locks_first) {
        std::vector<pg::Statement> before;
        before.push_back(pg::statement("BEGIN"));
        for (pg::Statement& s : locks_first) before.push_back(std::move(s));
        const std::size_t firsts = before.size() - 1;
        auto lock = locks_.lock_statement();
        if (lock) before.push_back(std::move(*lock));
        std::vector<Result> results = tx_.prefetch(std::move(streams), std::move(before));
        if (lock) locks_.locked(results.back());
        // Only `locks_first`'s: not BEGIN's, not the row locks'.
        results.erase(results.begin() + static_cast<std::ptrdiff_t>(1 + firsts), results.end());
        results.erase(results.begin());
        return results;
    }

    void close(std::vector<pg::Statement> positions,
               std::span<const std::pair<StreamKey, std::int64_t>> advanced,
               BatchTimesPruning& pruning) {
        if (auto drop = locks_.drop_statement()) positions.push_back(std::move(*drop));
        if (auto batch = record_batch(advanced, pruning)) positions.push_back(std::move(*batch));
        positions.push_back(pg::statement("COMMIT"));
        tx_.finish(std::move(positions));
    }

  private:
    PgProjectionTransaction tx_;
    ProductRowLocks& locks_;
};

}  // namespace

// One transaction of the in-process bus's events, in the two round trips of a Kafka poll: BEGIN,
// the product row locks and the applied versions; then the writes, the position, the dropped
// placeholders, the batch row and COMMIT. It was four or five (BEGIN, the locks and the version
// read each alone, COMMIT after the writes), each a wake-up of the projector and of its backend
// on the path of every read that waits for its token.
ProjectionResult project_events(Connection& conn, const ProjectionRules& rules,
                                std::span<const Event> events, const BusPosition& position,
                                BatchTimesPruning& pruning) {
    ProductRowLocks locks;
    locks.add(events);
    TwoRoundTrips round_trips(conn, locks);
    std::vector<StreamKey> streams;
    streams.reserve(events.size());
    for (const Event& e : events) streams.push_back(e.stream);
    round_trips.open(std::move(streams), {});
    ProjectionResult result = rules.sequence_events(events, round_trips.tx());
    round_trips.close({advance_position(position)}, result.advanced, pruning);
    return result;
}

// One transaction over the deliveries of a poll (one or more partitions), in two round trips
// whatever the number of partitions: BEGIN, the dead-letter lock (shared; a retry holds it
// exclusive and then writes rows), the fence, the product row locks of every delivery
// (ProductRowLocks) and the applied versions of every delivery's streams; then, after the
// sequencing rule ran over each delivery in turn, the placements of all of them, each partition's
// position, the dropped placeholders, the batch row and COMMIT. It was two round trips per
// partition, with a version read, a placement write and a stock write each: at 1,000 orders/s a
// poll held ~2 partitions, and those statements were a third of PostgreSQL's per order
// (BENCHMARKS.md, issue #11). A stream lives in one partition, so one read of every stream's
// version is the same as one per delivery; the stock buffer keeps the highest stock_seq per sku,
// across deliveries as within one. On a busy machine each round trip is a wake-up of the
// projector and of its backend, and this transaction is on the path of every read that waits for
// its token.
std::vector<ProjectionResult> project_deliveries(Connection& conn, const ProjectionRules& rules,
                                                 std::span<const DeliveryPart> parts,
                                                 BatchTimesPruning& pruning) {
    ProductRowLocks locks;
    std::vector<StreamKey> streams;  // every delivery's, for the one version read
    for (const DeliveryPart& part : parts) {
        locks.add(part.delivery->events);
        for (const Event& e : part.delivery->events) streams.push_back(e.stream);
    }
    const Fence fence(parts);
    std::vector<pg::Statement> locks_first;
    locks_first.push_back(
        pg::statement("SELECT pg_advisory_xact_lock_shared($1::int, 0)", kDeadLetterLockSpace));
    auto fence_lock = fence.lock_statement();
    const bool fenced = fence_lock.has_value();
    if (fenced) locks_first.push_back(std::move(*fence_lock));
    TwoRoundTrips round_trips(conn, locks);
    const std::vector<Result> first = round_trips.open(std::move(streams), std::move(locks_first));
    if (fenced) fence.check(first.at(1));  // after the dead-letter lock's

    std::vector<ProjectionResult> results;
    results.reserve(parts.size());
    std::vector<std::pair<StreamKey, std::int64_t>> advanced;
    std::vector<pg::Statement> positions;
    for (const DeliveryPart& part : parts) {
        results.push_back(rules.sequence_delivery(*part.delivery, part.offsets, round_trips.tx(),
                                                  encode_event_envelope));
        const ProjectionResult& result = results.back();
        advanced.insert(advanced.end(), result.advanced.begin(), result.advanced.end());
        positions.push_back(advance_position(part.delivery->position));
    }
    round_trips.close(std::move(positions), advanced, pruning);
    return results;
}

std::int64_t claim_partition(Connection& conn, const std::string& partition) {
    return conn
        .exec(
            "INSERT INTO partition_owners (partition, epoch) VALUES ($1, 1) ON CONFLICT "
            "(partition) DO UPDATE SET epoch = partition_owners.epoch + 1 RETURNING epoch",
            partition)
        .int64(0, 0);
}

DeadLetterRetry retry_dead_letters(Connection& conn, const ProjectionRules& rules,
                                   std::optional<std::int64_t> id, BatchTimesPruning& pruning) {
    conn.exec("SELECT pg_advisory_xact_lock($1::int, 0)", kDeadLetterLockSpace);
    Result r =
        id ? conn.exec(
                 "SELECT id, encode(payload, 'hex') FROM dead_letters WHERE id = $1 AND "
                 "discarded_at IS NULL",
                 *id)
           : conn.exec(
                 "SELECT id, encode(payload, 'hex') FROM dead_letters WHERE discarded_at IS NULL "
                 "ORDER BY id");
    std::vector<RetryRow> rows;
    ProductRowLocks locks;
    for (int i = 0; i < r.rows(); ++i) {
        rows.push_back(RetryRow{r.int64(i, 0), decode_event_envelope(from_hex(r.text(i, 1)))});
        if (rows.back().event) locks.add(std::span<const Event>(&*rows.back().event, 1));
    }
    locks.lock(conn);
    PgProjectionTransaction tx(conn);
    DeadLetterRetry out = rules.sequence_retry(std::move(rows), tx);
    std::vector<pg::Statement> after;
    if (auto batch = record_batch(out.advanced, pruning)) after.push_back(std::move(*batch));
    tx.finish(std::move(after));
    locks.drop_unused(conn);
    return out;
}

std::vector<StreamApplyTime> select_stream_apply_times(Connection& conn, const StreamKey& stream,
                                                       std::int64_t since_ms) {
    Result r = conn.exec(
        "SELECT applied_ms, streams FROM (SELECT id, applied_ms, streams FROM projection_batches "
        "WHERE applied_ms >= $1 ORDER BY applied_ms, id LIMIT $2) b WHERE strpos(streams, $3) > 0 "
        "ORDER BY applied_ms, id LIMIT $4",
        since_ms, kApplyBatchesLookedAt, batch_streams_needle(stream), kApplyBatchesListed);
    std::vector<StreamApplyTime> out;
    for (int i = 0; i < r.rows(); ++i) {
        if (const auto version = batch_stream_version(r.text(i, 1), stream))
            out.push_back(StreamApplyTime{*version, r.int64(i, 0)});
    }
    return out;
}

}  // namespace ordinal::pg
