#include "adapters/postgres/pg_batching_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include "adapters/postgres/pg_write_rows.h"

namespace ordinal::pg {
namespace {

using writer_support::call_quietly;

constexpr int kBatchAttempts = 5;  // deadlock / serialization failure: run the batch again

}  // namespace

bool PgBatchingWriter::retry_batch(const PgFailure& f) {
    return f.sqlstate == kDeadlockDetected || f.sqlstate == kSerializationFailure;
}

PgBatchingWriter::PgBatchingWriter(BatchingWriterOptions options, const Clock& clock,
                                   CommandRules rules)
    : options_(std::move(options)),
      clock_(clock),
      rules_(std::move(rules)),
      outbox_notifier_(options_.conninfo, "ordinal_outbox"),
      lanes_("postgres", {options_.connections, options_.max_queue, options_.max_batch}) {
    lanes_.start([this](std::size_t lane) { loop(lane); });
}

PgBatchingWriter::~PgBatchingWriter() {
    stop();
}

void PgBatchingWriter::stop() {
    for (Job& job : lanes_.stop()) call_quietly([&] { job.done(lanes_.shutting_down()); });
}

void PgBatchingWriter::submit(CommandRequest request, WriteStore::Done done) {
    const std::size_t lane = route(request.command);
    Job job{std::move(request), std::move(done), StoreError{}, 0};
    if (auto refused = lanes_.push(lane, job)) call_quietly([&] { job.done(*refused); });
}

void PgBatchingWriter::set_commit_listener(std::function<void()> listener) {
    lanes_.set_commit_listener(std::move(listener));
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
    return key ? std::hash<std::string>{}(*key) % lanes_.lanes() : 0;
}

void PgBatchingWriter::loop(std::size_t lane) {
    Connection conn;
    std::vector<Job> batch;
    while (lanes_.take(lane, batch)) run_batch(conn, batch);
}

void PgBatchingWriter::run_batch(Connection& conn, std::vector<Job>& batch) {
    BatchResult result = run_engine(conn, batch, Engine::Fast);
    if (result.failed && result.statement_failed) {
        // A statement of the fast path failed (a unique violation: a concurrent transaction took
        // a key or a stream version first): run the batch again the slow way, a savepoint per
        // command, so only the command concerned is affected.
        result = run_engine(conn, batch, Engine::Savepoints);
    }
    if (result.failed) {
        // Nothing of this batch is known to be committed: no command may report success.
        for (Job& job : batch) call_quietly([&] { job.done(*result.failed); });
        return;
    }
    const bool appended =
        std::any_of(batch.begin(), batch.end(), [](const Job& j) { return j.events_appended > 0; });
    if (appended) {
        // Relays in other processes LISTEN on ordinal_outbox rather than poll.
        if (outbox_notices_.load(std::memory_order_relaxed)) outbox_notifier_.signal();
        lanes_.committed();
    }
    for (Job& job : batch) call_quietly([&] { job.done(std::move(job.outcome)); });
}

PgBatchingWriter::BatchResult PgBatchingWriter::run_engine(Connection& conn,
                                                           std::vector<Job>& batch, Engine engine) {
    const auto rollback = [&] {
        if (conn.healthy() && conn.in_transaction()) {
            call_quietly([&] { conn.exec_script("ROLLBACK"); });
        }
    };
    for (int attempt = 1;; ++attempt) {
        try {
            open(conn);
            if (engine == Engine::Fast) {
                try_batch_fast(conn, batch);
            } else {
                try_batch(conn, batch);
            }
            return {};
        } catch (const PgFailure& f) {
            rollback();
            if (retry_batch(f) && attempt < kBatchAttempts) {
                std::this_thread::sleep_for(std::chrono::milliseconds(attempt));
                continue;
            }
            return {f.error, conn.healthy()};
        } catch (const StoreFailure& f) {
            return {f.error, false};
        } catch (const std::exception& e) {
            rollback();
            return {
                StoreError{StoreError::Kind::Internal, std::string("postgres writer: ") + e.what()},
                false};
        }
    }
}

void PgBatchingWriter::open(Connection& conn) {
    if (conn.healthy()) return;
    if (conn.conninfo().empty()) {
        conn = Connection::open(options_.conninfo);
    } else {
        conn.reconnect();
    }
}

}  // namespace ordinal::pg
