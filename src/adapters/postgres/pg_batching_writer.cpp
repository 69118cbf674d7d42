#include "adapters/postgres/pg_batching_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <new>
#include <set>
#include <unordered_map>
#include <utility>

#include "adapters/postgres/pg_write_rows.h"
#include "core/command_executor.h"

namespace ordinal::pg {
namespace {

constexpr int kBatchAttempts = 5;    // deadlock / serialization failure: run the batch again
constexpr int kCommandAttempts = 5;  // unique violation: run the command again

StoreError make_error(StoreError::Kind kind, std::string message) {
    StoreError e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
}

template <class F>
void call_quietly(F&& f) noexcept {
    try {
        f();
    } catch (...) {
    }
}

bool accepted(const CommandOutcome& o) {
    return std::holds_alternative<Acknowledgement>(o);
}

bool retry_batch(const PgFailure& f) {
    return f.sqlstate == kDeadlockDetected || f.sqlstate == kSerializationFailure;
}

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
        for (auto& [sku, p] : products_) {
            auto& slot = state_.products[sku];
            if (std::find(state_.dirty_skus.begin(), state_.dirty_skus.end(), sku) ==
                state_.dirty_skus.end())
                state_.dirty_skus.push_back(sku);
            slot = std::move(p);
        }
        for (auto& [id, o] : orders_) {
            auto& slot = state_.orders[id];
            if (std::find(state_.dirty_orders.begin(), state_.dirty_orders.end(), id) ==
                state_.dirty_orders.end())
                state_.dirty_orders.push_back(id);
            slot = std::move(o);
        }
        for (auto& e : events_) state_.events.push_back(std::move(e));
        for (auto& r : records_) {
            state_.records[r.key] = r;
            state_.new_records.push_back(std::move(r));
        }
    }

  private:
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

PgBatchingWriter::PgBatchingWriter(BatchingWriterOptions options, const Clock& clock,
                                   IdGenerator& ids)
    : options_(std::move(options)),
      clock_(clock),
      ids_(ids),
      outbox_notifier_(options_.conninfo, "ordinal_outbox") {
    if (options_.max_batch == 0) options_.max_batch = 1;
    if (options_.connections == 0) options_.connections = 1;
    for (std::size_t i = 0; i < options_.connections; ++i)
        lanes_.push_back(std::make_unique<Lane>());
    for (std::size_t i = 0; i < options_.connections; ++i)
        threads_.emplace_back([this, i] { loop(i); });
}

PgBatchingWriter::~PgBatchingWriter() {
    stop();
}

void PgBatchingWriter::stop() {
    std::lock_guard stop_lock(stop_mu_);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    for (auto& lane : lanes_) lane->cv.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    std::deque<Job> rest;
    {
        std::lock_guard lock(mu_);
        for (auto& lane : lanes_) {
            for (Job& job : lane->queue) rest.push_back(std::move(job));
            lane->queue.clear();
        }
        queued_ = 0;
    }
    for (Job& job : rest) {
        call_quietly([&] {
            job.done(
                make_error(StoreError::Kind::Unavailable, "postgres write store is shutting down"));
        });
    }
}

void PgBatchingWriter::submit(CommandRequest request, WriteStore::Done done) {
    std::optional<StoreError> refused;
    Lane* wake = nullptr;
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            refused =
                make_error(StoreError::Kind::Unavailable, "postgres write store is shutting down");
        } else if (queued_ >= options_.max_queue) {
            refused = make_error(StoreError::Kind::Overloaded, "postgres write queue is full");
        } else {
            try {
                Lane& lane = *lanes_[route(request.command)];
                lane.queue.push_back(Job{std::move(request), std::move(done), StoreError{}, 0});
                ++queued_;
                if (lane.waiting) {  // once: further commands before it runs need no wake-up
                    lane.waiting = false;
                    wake = &lane;
                }
            } catch (const std::bad_alloc&) {
                refused =
                    make_error(StoreError::Kind::Overloaded, "out of memory queueing a command");
            }
        }
    }
    if (refused) {
        call_quietly([&] { done(*refused); });
        return;
    }
    if (wake) wake->cv.notify_one();
}

void PgBatchingWriter::set_commit_listener(std::function<void()> listener) {
    std::lock_guard lock(mu_);
    commit_listener_ = std::move(listener);
}

std::size_t PgBatchingWriter::route(const Command& command) const {
    // By the product a command changes (orders: their smallest sku), else by the order: commands
    // on one product meet in one writer's batches instead of waiting for each other's row locks
    // across writers (and a hot product gets the biggest batches). Routing is only about speed:
    // the row locks keep any routing correct.
    const std::string* key = nullptr;
    std::visit(
        [&](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, UpsertProduct>) {
                key = &c.sku;
            } else if constexpr (std::is_same_v<T, PlaceOrder>) {
                for (const auto& item : c.items) {
                    if (!key || item.sku < *key) key = &item.sku;
                }
            } else {
                key = &c.order_id;
            }
        },
        command);
    return key ? std::hash<std::string>{}(*key) % lanes_.size() : 0;
}

std::vector<PgBatchingWriter::Job> PgBatchingWriter::take_batch(std::size_t index) {
    std::unique_lock lock(mu_);
    Lane& lane = *lanes_[index];
    auto& queue = lane.queue;
    lane.waiting = true;
    lane.cv.wait(lock, [&] { return stopping_ || !queue.empty(); });
    lane.waiting = false;
    std::vector<Job> batch;
    if (stopping_) return batch;
    while (!queue.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
    }
    queued_ -= batch.size();
    return batch;
}

void PgBatchingWriter::loop(std::size_t index) {
    Connection conn;
    for (;;) {
        std::vector<Job> batch = take_batch(index);
        if (batch.empty()) break;
        run_batch(conn, batch);
    }
}

void PgBatchingWriter::run_batch(Connection& conn, std::vector<Job>& batch) {
    std::optional<StoreError> failed;
    bool fast = true;
    for (int attempt = 1;; ++attempt) {
        try {
            if (!conn.healthy()) {
                if (conn.conninfo().empty()) {
                    conn = Connection::open(options_.conninfo);
                } else {
                    conn.reconnect();
                }
            }
            if (fast) {
                try_batch_fast(conn, batch);
            } else {
                try_batch(conn, batch);
            }
            failed.reset();
            break;
        } catch (const PgFailure& f) {
            failed = f.error;
            if (conn.healthy() && conn.in_transaction()) {
                call_quietly([&] { conn.exec_script("ROLLBACK"); });
            }
            if (retry_batch(f) && attempt < kBatchAttempts) {
                std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
                continue;
            }
            if (fast && conn.healthy()) {
                // A statement of the fast path failed (a unique violation: a concurrent
                // transaction took a key or a stream version first): run the batch again the
                // slow way, a savepoint per command, so only the command concerned is affected.
                fast = false;
                continue;
            }
            break;
        } catch (const StoreFailure& f) {
            failed = f.error;
            break;
        } catch (const std::exception& e) {
            failed =
                make_error(StoreError::Kind::Internal, std::string("postgres writer: ") + e.what());
            if (conn.healthy() && conn.in_transaction()) {
                call_quietly([&] { conn.exec_script("ROLLBACK"); });
            }
            break;
        }
    }
    if (failed) {
        // Nothing of this batch is known to be committed: no command may report success.
        for (Job& job : batch) call_quietly([&] { job.done(*failed); });
        return;
    }
    const bool appended =
        std::any_of(batch.begin(), batch.end(), [](const Job& j) { return j.events_appended > 0; });
    if (appended) {
        // Relays in other processes LISTEN on ordinal_outbox rather than poll.
        outbox_notifier_.signal();
        std::function<void()> listener;
        {
            std::lock_guard lock(mu_);
            listener = commit_listener_;
        }
        if (listener) call_quietly(listener);
    }
    for (Job& job : batch) call_quietly([&] { job.done(std::move(job.outcome)); });
}

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
        job.outcome = execute_command(tx, job.request, clock_, ids_);  // PgFailure: whole batch
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
            job.outcome = execute_command(tx, job.request, clock_, ids_);
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
                make_error(StoreError::Kind::Internal, std::string("postgres: ") + e.what());
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
