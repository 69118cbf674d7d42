// The PostgreSQL write store's two ways of running a batch of commands in one transaction
// (PgBatchingWriter::run_batch picks one, run_engine retries it): the fast path reads every row and
// idempotency key of the batch up front and writes all its effects in one statement, without
// savepoints; the fallback runs each command in a savepoint of its own, so a command that fails
// (a unique violation: a concurrent transaction took its key or stream version first) is run
// again or fails alone.
#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "adapters/batching_writer_support.h"
#include "adapters/postgres/pg_batching_writer.h"
#include "adapters/postgres/pg_write_rows.h"

namespace ordinal::pg {
namespace {

using writer_support::accepted;

constexpr int kCommandAttempts = 5;  // unique violation: run the command again

// WriteTransaction inside the batch's transaction (and the command's savepoint).
class PgWriteTransaction final : public WriteTransaction {
  public:
    PgWriteTransaction(Connection& conn, const Clock& clock) : conn_(conn), clock_(clock) {}
    std::optional<IdempotencyRecord> find_idempotency(const std::string& key) override {
        return select_idempotency(conn_, key);
    }
    void insert_idempotency(const IdempotencyRecord& record) override {
        pg::insert_idempotency(conn_, record);
    }
    std::optional<Product> load_product(const std::string& sku) override {
        return select_product(conn_, sku, true);
    }
    void save_product(const Product& product) override { upsert_product(conn_, product); }
    std::optional<Order> load_order(const std::string& id) override {
        return select_order(conn_, id, true);
    }
    void save_order(const Order& order) override { upsert_order(conn_, order); }
    void append_event(const Event& event, const TraceContext& trace) override {
        insert_event(conn_, event, trace, clock_.unix_ms());
        ++events_appended_;
    }
    std::int64_t events_appended() const { return events_appended_; }

  private:
    Connection& conn_;
    const Clock& clock_;
    std::int64_t events_appended_ = 0;
};

// The fast path's state of one batch: the rows locked and read up front, the idempotency records
// of all its keys, and the effects of the commands accepted so far (written at the end in one
// statement). Nothing is sent to the server while the commands run.
struct BatchState {
    std::map<std::string, std::optional<Product>> products;  // sku -> row (nullopt: none)
    std::map<std::string, std::optional<Order>> orders;      // order id -> row (nullopt: none)
    std::unordered_map<std::string, IdempotencyRecord> records;
    std::set<std::string> keys_known;  // keys whose absence from `records` is known
    // Effects to write: final row states (in first-change order) and appended rows.
    std::vector<std::string> dirty_skus, dirty_orders;
    std::vector<PendingEvent> events;
    std::vector<IdempotencyRecord> new_records;
};

// One command's view of the batch: reads see the batch state plus its own writes, which join
// the batch state only if the command is accepted (what a savepoint per command gives the slow
// path). A row the batch did not fetch (not expected) is read, locked, from the server.
class BatchCommandTransaction final : public WriteTransaction {
  public:
    BatchCommandTransaction(BatchState& state, Connection& conn, const Clock& clock)
        : state_(state), conn_(conn), clock_(clock) {}

    std::optional<IdempotencyRecord> find_idempotency(const std::string& key) override {
        if (auto it = state_.records.find(key); it != state_.records.end()) return it->second;
        if (state_.keys_known.count(key)) return std::nullopt;
        auto rec = select_idempotency(conn_, key);
        if (rec) state_.records.emplace(key, *rec);
        state_.keys_known.insert(key);
        return rec;
    }
    void insert_idempotency(const IdempotencyRecord& record) override {
        records_.push_back(record);
    }
    std::optional<Product> load_product(const std::string& sku) override {
        if (auto it = products_.find(sku); it != products_.end()) return it->second;
        auto it = state_.products.find(sku);
        if (it == state_.products.end())
            it = state_.products.emplace(sku, select_product(conn_, sku, true)).first;
        return it->second;
    }
    void save_product(const Product& product) override { products_[product.sku] = product; }
    std::optional<Order> load_order(const std::string& id) override {
        if (auto it = orders_.find(id); it != orders_.end()) return it->second;
        auto it = state_.orders.find(id);
        if (it == state_.orders.end())
            it = state_.orders.emplace(id, select_order(conn_, id, true)).first;
        return it->second;
    }
    void save_order(const Order& order) override { orders_[order.id] = order; }
    void append_event(const Event& event, const TraceContext& trace) override {
        events_.push_back(PendingEvent{event, clock_.unix_ms(), trace});
    }

    std::int64_t events_appended() const { return static_cast<std::int64_t>(events_.size()); }

    // The command was accepted: its effects join the batch.
    void keep() {
        keep_rows(products_, state_.products, state_.dirty_skus);
        keep_rows(orders_, state_.orders, state_.dirty_orders);
        for (auto& e : events_) state_.events.push_back(std::move(e));
        for (auto& r : records_) {
            state_.records[r.key] = r;
            state_.new_records.push_back(std::move(r));
        }
    }

  private:
    // The command's rows into the batch's, each key marked dirty once (in first-change order).
    template <class Row>
    static void keep_rows(std::map<std::string, Row>& mine,
                          std::map<std::string, std::optional<Row>>& batch,
                          std::vector<std::string>& dirty) {
        for (auto& [key, row] : mine) {
            if (std::find(dirty.begin(), dirty.end(), key) == dirty.end()) dirty.push_back(key);
            batch[key] = std::move(row);
        }
    }

    BatchState& state_;
    Connection& conn_;
    const Clock& clock_;
    std::map<std::string, Product> products_;
    std::map<std::string, Order> orders_;
    std::vector<PendingEvent> events_;
    std::vector<IdempotencyRecord> records_;
};

// The rows a command will change, for lock_rows.
void collect_rows(const Command& command, std::set<std::string>& orders,
                  std::set<std::string>& skus) {
    std::visit(
        [&](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, UpsertProduct>) {
                skus.insert(c.sku);
            } else if constexpr (std::is_same_v<T, PlaceOrder>) {
                for (const auto& item : c.items) skus.insert(item.sku);
            } else {
                orders.insert(c.order_id);
            }
        },
        command);
}

}  // namespace

void PgBatchingWriter::try_batch(Connection& conn, std::vector<Job>& batch) {
    conn.exec_script("BEGIN");
    std::set<std::string> orders, skus;
    for (const Job& job : batch) collect_rows(job.request.command, orders, skus);
    lock_rows(conn, std::vector<std::string>(orders.begin(), orders.end()),
              std::vector<std::string>(skus.begin(), skus.end()));
    for (Job& job : batch) run_job(conn, job);
    if (conn.in_failed_transaction()) throw_internal("batch transaction failed");
    conn.exec_script("COMMIT");
}

void PgBatchingWriter::try_batch_fast(Connection& conn, std::vector<Job>& batch) {
    std::set<std::string> order_set, sku_set;
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const Job& job : batch) {
        collect_rows(job.request.command, order_set, sku_set);
        keys.push_back(job.request.idempotency_key);
    }
    const std::vector<std::string> order_ids(order_set.begin(), order_set.end());
    const std::vector<std::string> skus(sku_set.begin(), sku_set.end());

    // Round trip 1: BEGIN, the idempotency records of the batch's keys, then the rows it changes,
    // locked (orders by id, then products by sku, as lock_rows) and read. The locks are taken
    // last, so they are held from here through the second round trip only. A key committed by
    // another transaction after this read makes the final insert fail with a unique violation,
    // and the batch runs again the slow way.
    std::vector<Statement> reads;
    reads.push_back(statement("BEGIN"));
    reads.push_back(idempotency_many_statement(keys));
    if (!order_ids.empty()) reads.push_back(lock_orders_statement(order_ids));
    if (!skus.empty() || !order_ids.empty())
        reads.push_back(lock_products_statement(skus, order_ids));
    std::vector<Result> read = conn.exec_pipeline(reads);

    BatchState state;
    std::size_t next = 1;
    for (IdempotencyRecord& rec : read_idempotency_records(read[next++])) {
        std::string key = rec.key;
        state.records.emplace(std::move(key), std::move(rec));
    }
    state.keys_known.insert(keys.begin(), keys.end());
    if (!order_ids.empty()) {
        for (Order& o : read_orders(read[next++])) {
            std::string id = o.id;
            state.orders.emplace(std::move(id), std::move(o));
        }
    }
    for (const std::string& id : order_ids) state.orders.try_emplace(id, std::nullopt);
    if (!skus.empty() || !order_ids.empty()) {
        for (Product& p : read_products(read[next++])) {
            std::string sku = p.sku;
            state.products.emplace(std::move(sku), std::move(p));
        }
    }
    for (const std::string& sku : skus) state.products.try_emplace(sku, std::nullopt);

    for (Job& job : batch) {
        BatchCommandTransaction tx(state, conn, clock_);
        job.events_appended = 0;
        job.outcome = rules_(tx, job.request);  // PgFailure: whole batch
        if (accepted(job.outcome)) {
            job.events_appended = tx.events_appended();
            tx.keep();
        }
    }
    if (conn.in_failed_transaction()) throw_internal("batch transaction failed");

    // Round trip 2: the batch's effects in one statement, and COMMIT.
    std::vector<Statement> writes;
    if (!state.events.empty() || !state.new_records.empty()) {
        std::vector<Product> products;
        products.reserve(state.dirty_skus.size());
        for (const std::string& sku : state.dirty_skus) products.push_back(*state.products[sku]);
        std::vector<Order> orders;
        orders.reserve(state.dirty_orders.size());
        for (const std::string& id : state.dirty_orders) orders.push_back(*state.orders[id]);
        writes.push_back(write_batch_statement(products, orders, state.events, state.new_records));
    }
    writes.push_back(statement("COMMIT"));
    conn.exec_pipeline(writes);
}

void PgBatchingWriter::run_job(Connection& conn, Job& job) {
    for (int attempt = 1;; ++attempt) {
        conn.exec_script("SAVEPOINT job");
        bool keep = false;
        try {
            PgWriteTransaction tx(conn, clock_);
            job.outcome = rules_(tx, job.request);
            job.events_appended = tx.events_appended();
            keep = accepted(job.outcome);
        } catch (const PgFailure& f) {
            // Lost connection or a deadlock: the whole batch goes (the caller decides).
            if (!conn.healthy() || retry_batch(f)) throw;
            if (f.sqlstate == kUniqueViolation && attempt < kCommandAttempts) {
                // Another transaction committed the same key or stream version first; run the
                // command again on top of it.
                conn.exec_script("ROLLBACK TO SAVEPOINT job");
                conn.exec_script("RELEASE SAVEPOINT job");
                continue;
            }
            job.outcome = f.error;
        } catch (const StoreFailure& f) {
            job.outcome = f.error;
        } catch (const std::exception& e) {
            job.outcome =
                StoreError{StoreError::Kind::Internal, std::string("postgres: ") + e.what()};
        }
        if (keep) {
            conn.exec_script("RELEASE SAVEPOINT job");
        } else {
            job.events_appended = 0;
            conn.exec_script("ROLLBACK TO SAVEPOINT job");
            conn.exec_script("RELEASE SAVEPOINT job");
        }
        return;
    }
}

}  // namespace ordinal::pg
