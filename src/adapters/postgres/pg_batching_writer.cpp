#include "adapters/postgres/pg_batching_writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <new>
#include <set>
#include <unordered_map>
#include <utility>

#include "adapters/batching_writer_support.h"
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
                StoreError{StoreError::Kind::Unavailable, "postgres write store is shutting down"});
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
                StoreError{StoreError::Kind::Unavailable, "postgres write store is shutting down"};
        } else if (queued_ >= options_.max_queue) {
            refused = StoreError{StoreError::Kind::Overloaded, "postgres write queue is full"};
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
                    StoreError{StoreError::Kind::Overloaded, "out of memory queueing a command"};
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
                StoreError{StoreError::Kind::Internal, std::string("postgres writer: ") + e.what()};
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

}  // namespace ordinal::pg
