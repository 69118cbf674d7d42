#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "domain/thread_annotations.h"
#include "ports/bus.h"
#include "ports/metrics.h"
#include "ports/write_store.h"

namespace ordinal {

struct RelayOptions {
    std::size_t batch_size = 512;
    std::chrono::milliseconds idle_poll{50};      // when no commit notification arrives
    std::chrono::milliseconds max_backoff{2000};  // transient bus/store errors are retried forever
    // After a round short of a full batch, the next starts no sooner than this after it started:
    // every round is a marking commit and a projection commit, and without a pause a busy store
    // is relayed in many small rounds whose commits compete with the writers' for the WAL. A
    // commit that finds the relay idle for longer than this is relayed at once.
    std::chrono::milliseconds linger{5};
    // Batches handed to the bus whose delivery is not confirmed yet. While they are out the relay
    // fetches and sends the next ones, so a bus that confirms late (Kafka, acks=all) does not
    // hold the outbox up; batches are still marked one by one, in the order they were sent.
    std::size_t max_in_flight = 4;
    // How long stop() waits for the batches in flight to be confirmed, so they are marked and
    // not sent again by the next relay.
    std::chrono::milliseconds stop_wait{15000};
};

// Publishes committed outbox events to the bus in outbox order and marks them published only
// after the bus accepted them. Never drops an event; may publish one twice after a crash. Several
// relays may share one outbox: each publishes what its store's fetch_pending hands it (the
// partitions it owns), so the relay itself needs no coordination.
//
// Pipelined: up to `max_in_flight` batches are out on the bus at once. The relay thread fetches
// and sends; a marker thread of its own waits for each batch's outcome and marks it, so neither
// the bus's confirmation nor the marking commit holds up the next fetch. The batches marked are
// always a prefix of those sent (a batch is marked only after its own confirmation and after
// every batch sent before it), so a crash re-sends at most the unmarked tail. When a batch fails,
// the ones sent after it are forgotten unmarked and everything from the failed batch on is
// fetched and sent again, in order: the bus may then carry a stream's later version before the
// copy of an earlier one, which the projector skips (its complete copy follows).
class Relay {
  public:
    Relay(WriteStore& store, Bus& bus, MetricsRegistry& metrics, RelayOptions options);
    ~Relay();
    void start();
    void stop();
    void wake();  // a commit happened
    // Holds the relay between batches (for a projection rebuild); resume() lets it go on.
    void pause();
    void resume();
    std::int64_t published_seq() const { return published_seq_.load(); }

  private:
    struct InFlight {
        std::vector<StoredEvent> events;
        std::unique_ptr<Publication> publication;
    };
    enum class Step {
        Failed,  // a fetch failed, or a batch out failed (then nothing out is kept): back off
        More,    // sent a full batch with room for another: go on at once
        Full,    // max_in_flight batches are out: wait for the marker to make room
        Idle,    // took everything pending: wait for a commit
    };
    void loop();
    Step run_once();
    // Throws away the pipeline after a failure seen by the marker; the relay thread's part.
    void restart_after_failure();
    // The marker thread: waits for the head batch's outcome, marks it, and so on, in send order.
    void mark_loop();
    void on_settled();

    WriteStore& store_;
    Bus& bus_;
    RelayOptions options_;
    Counter& published_;
    Counter& errors_;
    Gauge& position_gauge_;
    Gauge& in_flight_gauge_;
    Histogram& fetch_seconds_;
    Histogram& mark_seconds_;
    Histogram& send_seconds_;
    Histogram& event_age_;

    std::mutex mu_;
    std::condition_variable cv_;
    bool woken_ GUARDED_BY(mu_) = false;
    bool stopping_ GUARDED_BY(mu_) = false;
    bool marker_stopping_ GUARDED_BY(mu_) = false;  // the relay thread is gone, drain and end
    std::chrono::steady_clock::time_point marker_deadline_ GUARDED_BY(mu_);
    int paused_ GUARDED_BY(mu_) = 0;
    bool in_round_ GUARDED_BY(mu_) = false;  // the relay thread is fetching or sending
    bool settled_ GUARDED_BY(mu_) = false;   // a batch out got its outcome (for the marker)
    bool broken_ GUARDED_BY(mu_) = false;    // a batch out failed; the pipeline was dropped
    std::condition_variable idle_cv_;
    std::atomic<std::int64_t> published_seq_{0};
    // Batches sent and not yet marked, oldest first (the relay thread appends, the marker
    // removes the head once marked; elements do not move while others are added).
    std::deque<InFlight> in_flight_ GUARDED_BY(mu_);
    // Seqs the marker marked since the relay thread's last fetch began.
    std::vector<std::int64_t> marked_ GUARDED_BY(mu_);
    // The relay thread's own: seqs sent and maybe not yet marked when its last fetch began. A
    // fetch returns them again until they are marked; they are left out, not sent twice.
    std::unordered_set<std::int64_t> sent_;
    // The relay thread's own: fetched, not sent yet, in seq order; the next fetch waits for
    // them all to be sent. fetched_all_: the fetch that filled it found nothing more pending.
    std::deque<StoredEvent> unsent_;
    bool fetched_all_ = true;
    std::thread thread_;
    std::thread marker_;
};

}  // namespace ordinal
