#include "adapters/postgres/pg_batching_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <new>
#include <set>
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
    void append_event(const Event& event) override {
        insert_event(conn_, event, clock_.unix_ms());
        ++events_appended_;
    }
    std::int64_t events_appended() const { return events_appended_; }

  private:
    Connection& conn_;
    const Clock& clock_;
    std::int64_t events_appended_ = 0;
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
    : options_(std::move(options)), clock_(clock), ids_(ids) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    if (options_.connections == 0) options_.connections = 1;
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
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    std::deque<Job> rest;
    {
        std::lock_guard lock(mu_);
        rest.swap(queue_);
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
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            refused =
                make_error(StoreError::Kind::Unavailable, "postgres write store is shutting down");
        } else if (queue_.size() >= options_.max_queue) {
            refused = make_error(StoreError::Kind::Overloaded, "postgres write queue is full");
        } else {
            try {
                queue_.push_back(Job{std::move(request), std::move(done), StoreError{}, 0});
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
    cv_.notify_one();
}

void PgBatchingWriter::set_commit_listener(std::function<void()> listener) {
    std::lock_guard lock(mu_);
    commit_listener_ = std::move(listener);
}

std::vector<PgBatchingWriter::Job> PgBatchingWriter::take_batch() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    std::vector<Job> batch;
    if (stopping_) return batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return batch;
}

void PgBatchingWriter::loop(std::size_t) {
    Connection conn;
    for (;;) {
        std::vector<Job> batch = take_batch();
        if (batch.empty()) break;
        run_batch(conn, batch);
    }
}

void PgBatchingWriter::run_batch(Connection& conn, std::vector<Job>& batch) {
    std::optional<StoreError> failed;
    for (int attempt = 1;; ++attempt) {
        try {
            if (!conn.healthy()) {
                if (conn.conninfo().empty()) {
                    conn = Connection::open(options_.conninfo);
                } else {
                    conn.reconnect();
                }
            }
            try_batch(conn, batch);
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
