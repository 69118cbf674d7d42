#pragma once
// An outbox in memory for relay tests: events get their seq when appended and become visible to
// fetch_pending only once committed, so a test can commit them out of seq order the way
// concurrent PostgreSQL transactions do. fetch_pending hands out committed, unmarked events in
// seq order (PostgreSQL's `WHERE NOT published ORDER BY seq`); every mark_published call is kept.
#include <condition_variable>
#include <map>
#include <mutex>
#include <vector>

#include "support/fake_stores.h"

namespace ordinal::test_support {

class MemoryOutbox final : public EmptyWriteStore {
  public:
    void submit(CommandRequest, Done done) override {
        done(StoreError{StoreError::Kind::Internal, "MemoryOutbox takes no commands"});
    }

    // Appends `event` with the next seq; returns the seq.
    std::int64_t append(Event event, bool committed = true) {
        std::lock_guard lock(mu_);
        const std::int64_t seq = static_cast<std::int64_t>(rows_.size()) + 1;
        rows_.push_back(Row{StoredEvent{seq, std::move(event), std::nullopt}, committed, false});
        return seq;
    }

    void commit(std::int64_t seq) {
        std::lock_guard lock(mu_);
        rows_.at(static_cast<std::size_t>(seq - 1)).committed = true;
    }

    Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t limit) override {
        std::lock_guard lock(mu_);
        ++fetches_;
        cv_.notify_all();
        if (fail_fetches_ > 0) {
            --fail_fetches_;
            return unexpected(StoreError{StoreError::Kind::Unavailable, "planted fetch failure"});
        }
        std::vector<StoredEvent> out;
        for (const Row& r : rows_) {
            if (out.size() >= limit) break;
            if (r.committed && !r.published) out.push_back(r.stored);
        }
        return out;
    }

    // Records the form asked for; hands out decoded events whatever it is (as a store may).
    Expected<std::vector<StoredEvent>, StoreError> fetch_pending_except(
        std::size_t limit, std::span<const std::int64_t> out, EventForm form) override {
        {
            std::lock_guard lock(mu_);
            forms_.push_back(form);
        }
        return EmptyWriteStore::fetch_pending_except(limit, out, form);
    }
    // The form of each fetch_pending_except call, in order.
    std::vector<EventForm> forms() {
        std::lock_guard lock(mu_);
        return forms_;
    }

    Expected<void, StoreError> mark_published(std::span<const StoredEvent> events) override {
        std::lock_guard lock(mu_);
        std::vector<std::int64_t> seqs;
        for (const StoredEvent& e : events) {
            rows_.at(static_cast<std::size_t>(e.seq - 1)).published = true;
            seqs.push_back(e.seq);
        }
        marks_.push_back(std::move(seqs));
        cv_.notify_all();
        return {};
    }

    Expected<OutboxStats, StoreError> outbox_stats() override {
        std::lock_guard lock(mu_);
        OutboxStats s;
        for (const Row& r : rows_) s.pending += r.published ? 0 : 1;
        s.last_seq = static_cast<std::int64_t>(rows_.size());
        return s;
    }

    void fail_next_fetches(int n) {
        std::lock_guard lock(mu_);
        fail_fetches_ = n;
    }

    // Waits (bounded) until every appended event is marked published.
    bool wait_all_marked(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [this] {
            for (const Row& r : rows_)
                if (!r.published) return false;
            return true;
        });
    }

    // Waits (bounded) until fetch_pending was called `n` times in all.
    bool wait_fetches(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return fetches_ >= n; });
    }

    // Waits (bounded) until `seq` is marked published.
    bool wait_published(std::int64_t seq,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout,
                            [&] { return rows_.at(static_cast<std::size_t>(seq - 1)).published; });
    }

    // Waits (bounded) until at least `n` mark_published calls were made.
    bool wait_marks(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return marks_.size() >= n; });
    }

    std::vector<std::vector<std::int64_t>> marks() {
        std::lock_guard lock(mu_);
        return marks_;
    }
    bool published(std::int64_t seq) {
        std::lock_guard lock(mu_);
        return rows_.at(static_cast<std::size_t>(seq - 1)).published;
    }
    int fetches() {
        std::lock_guard lock(mu_);
        return fetches_;
    }

  private:
    struct Row {
        StoredEvent stored;
        bool committed = false;
        bool published = false;
    };
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Row> rows_;
    std::vector<std::vector<std::int64_t>> marks_;
    int fail_fetches_ = 0;
    int fetches_ = 0;
    std::vector<EventForm> forms_;
};

}  // namespace ordinal::test_support
