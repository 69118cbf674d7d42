#pragma once
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/expected.h"
#include "ports/clock.h"
#include "ports/idempotency_cache.h"
#include "ports/metrics.h"
#include "ports/service_api.h"
#include "ports/write_store.h"

namespace ordinal {

struct CommandServiceOptions {
    // Past this many unpublished outbox events, new commands are shed with Overloaded.
    std::int64_t max_outbox_pending = 200000;
};

// The command side's front door: the idempotency cache, backpressure on outbox lag, metrics,
// then the write store. Thread-safe.
class CommandService final : public CommandApi {
  public:
    // `ids` mints the id of a placed order (the executor mints the event ids from the same
    // generator, handed to the write store by the composition root): no front end mints ids.
    CommandService(WriteStore& store, IdempotencyCache& cache, MetricsRegistry& metrics,
                   IdGenerator& ids, CommandServiceOptions options);

    // A PlaceOrder without an order id gets a fresh UUIDv7 here, before the key is looked up.
    void execute(CommandRequest request, WriteStore::Done done) override;
    bool execute_may_block() const override { return cache_.may_block(); }
    Expected<std::optional<CommandOutcome>, StoreError> answer_for_used_key(
        const std::string& key, const std::string& fingerprint) override;

    // Fed by the relay (or a poll of outbox_stats) for backpressure.
    void set_outbox_pending(std::int64_t pending) {
        outbox_pending_.store(pending, std::memory_order_relaxed);
    }

  private:
    void count_repeat(const char* answered_by);  // "cache" or "write_store"

    WriteStore& store_;
    IdempotencyCache& cache_;
    MetricsRegistry& metrics_;
    IdGenerator& ids_;
    CommandServiceOptions options_;
    std::atomic<std::int64_t> outbox_pending_{0};
};

}  // namespace ordinal
