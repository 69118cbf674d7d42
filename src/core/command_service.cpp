#include "core/command_service.h"

#include <chrono>
#include <memory>

namespace ordinal {
CommandService::CommandService(WriteStore& store, IdempotencyCache& cache, MetricsRegistry& metrics,
                               IdGenerator& ids, CommandServiceOptions options)
    : store_(store), cache_(cache), metrics_(metrics), ids_(ids), options_(options) {}

void CommandService::execute(CommandRequest request, WriteStore::Done done) {
    // Not part of the fingerprint: a repeat is answered with the order its key made.
    if (auto* place = std::get_if<PlaceOrder>(&request.command); place && place->order_id.empty())
        place->order_id = ids_.new_uuid_v7();
    const std::string type = command_name(request.command);
    const auto started = std::chrono::steady_clock::now();
    auto finish = [this, type, started, done = std::move(done)](CommandOutcome outcome) {
        const std::string result = outcome_label(outcome);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics_
            .counter("ordinal_commands_total", "Commands by type and result",
                     {{"type", type}, {"result", result}})
            .inc();
        metrics_
            .histogram("ordinal_command_duration_seconds", "Command latency by type and result",
                       {{"type", type}, {"result", result}})
            .observe(secs);
        done(std::move(outcome));
    };

    // The cache can only answer repeats; the store re-checks every key it does not answer.
    if (auto cached = cache_.get(request.idempotency_key)) {
        count_repeat("cache");
        return finish(answer_for_recorded_key(*cached, request.fingerprint));
    }
    if (outbox_pending_.load(std::memory_order_relaxed) > options_.max_outbox_pending) {
        return finish(StoreError{StoreError::Kind::Overloaded, "outbox lag above its bound"});
    }
    auto key = request.idempotency_key;
    auto fingerprint = request.fingerprint;
    auto command_type = type;
    store_.submit(std::move(request), [this, key = std::move(key),
                                       fingerprint = std::move(fingerprint),
                                       command_type = std::move(command_type),
                                       finish = std::move(finish)](CommandOutcome outcome) mutable {
        const auto* ack = std::get_if<Acknowledgement>(&outcome);
        if (std::holds_alternative<KeyReused>(outcome) || (ack && ack->duplicate))
            count_repeat("write_store");
        if (ack) {  // a duplicate too, so the next repeat of this key is answered from the cache
            IdempotencyRecord rec;
            rec.key = std::move(key);
            rec.fingerprint = std::move(fingerprint);
            rec.command_type = std::move(command_type);
            rec.ack = *ack;
            rec.ack.duplicate = false;
            cache_.put(rec);
        }
        finish(std::move(outcome));
    });
}

void CommandService::count_repeat(const char* answered_by) {
    metrics_
        .counter(
            "ordinal_idempotency_repeats_total",
            "Commands whose key was already used (duplicate or reused), by what answered them: "
            "the idempotency cache or a write-store transaction",
            {{"answered_by", answered_by}})
        .inc();
}

Expected<std::optional<CommandOutcome>, StoreError> CommandService::answer_for_used_key(
    const std::string& key, const std::string& fingerprint) {
    std::optional<IdempotencyRecord> rec = cache_.get(key);
    if (!rec) {
        auto stored = store_.find_idempotency(key);
        if (!stored) return unexpected(stored.error());
        rec = std::move(*stored);
    }
    if (!rec) return std::optional<CommandOutcome>{};
    return std::optional<CommandOutcome>{answer_for_recorded_key(*rec, fingerprint)};
}

}  // namespace ordinal
