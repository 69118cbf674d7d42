#pragma once
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "core/metrics.h"
#include "domain/expected.h"
#include "ports/idempotency_cache.h"
#include "ports/write_store.h"

namespace ordinal {

struct CommandServiceOptions {
    // Past this many unpublished outbox events, new commands are shed with Overloaded.
    std::int64_t max_outbox_pending = 200000;
};

// The command side's front door: the idempotency cache, backpressure on outbox lag, metrics,
// then the write store. Thread-safe.
class CommandService {
  public:
    CommandService(WriteStore& store, IdempotencyCache& cache, MetricsRegistry& metrics,
                   CommandServiceOptions options);

    // Runs a validated command. `done` is called exactly once, possibly on another thread.
    void execute(CommandRequest request, WriteStore::Done done);
    // Whether execute() may wait on I/O before it returns (the idempotency cache's look-up; the
    // write store's submit only queues). When false, a front end may call it on an I/O thread.
    bool execute_may_block() const { return cache_.may_block(); }

    // For a request whose fields failed validation: the answer its key already determines (a
    // duplicate Acknowledgement or KeyReused), or nullopt when the key has not been used.
    Expected<std::optional<CommandOutcome>, StoreError> answer_for_used_key(
        const std::string& key, const std::string& fingerprint);

    // Fed by the relay (or a poll of outbox_stats) for backpressure.
    void set_outbox_pending(std::int64_t pending) {
        outbox_pending_.store(pending, std::memory_order_relaxed);
    }

  private:
    void count_repeat(const char* answered_by);  // "cache" or "write_store"

    WriteStore& store_;
    IdempotencyCache& cache_;
    MetricsRegistry& metrics_;
    CommandServiceOptions options_;
    std::atomic<std::int64_t> outbox_pending_{0};
};

// "accepted", "duplicate", "rejected:<code>", "key_reused", "unavailable", "overloaded" ...
std::string outcome_label(const CommandOutcome& outcome);

}  // namespace ordinal
