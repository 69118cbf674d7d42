#include "core/command_service.h"

#include <chrono>
#include <memory>

namespace ordinal {
namespace {

const char* domain_code_label(DomainError::Code c) {
    switch (c) {
        case DomainError::Code::NotFound:
            return "not_found";
        case DomainError::Code::VersionConflict:
            return "version_conflict";
        case DomainError::Code::UnknownSku:
            return "unknown_sku";
        case DomainError::Code::InsufficientStock:
            return "insufficient_stock";
        case DomainError::Code::CurrencyMismatch:
            return "currency_mismatch";
        case DomainError::Code::AmountMismatch:
            return "amount_mismatch";
        case DomainError::Code::InvalidTransition:
            return "invalid_transition";
        case DomainError::Code::TotalOverflow:
            return "validation_failed";
    }
    return "rejected";
}

Acknowledgement as_duplicate(const IdempotencyRecord& rec) {
    Acknowledgement ack = rec.ack;
    ack.duplicate = true;
    return ack;
}

}  // namespace

std::string outcome_label(const CommandOutcome& outcome) {
    if (const auto* ack = std::get_if<Acknowledgement>(&outcome))
        return ack->duplicate ? "duplicate" : "accepted";
    if (const auto* err = std::get_if<DomainError>(&outcome)) return domain_code_label(err->code);
    if (std::holds_alternative<KeyReused>(outcome)) return "idempotency_key_reused";
    const auto& se = std::get<StoreError>(outcome);
    return se.kind == StoreError::Kind::Overloaded ? "overloaded" : "unavailable";
}

CommandService::CommandService(WriteStore& store, IdempotencyCache& cache, MetricsRegistry& metrics,
                               CommandServiceOptions options)
    : store_(store), cache_(cache), metrics_(metrics), options_(options) {}

void CommandService::execute(CommandRequest request, WriteStore::Done done) {
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
        if (cached->fingerprint != request.fingerprint) return finish(KeyReused{});
        return finish(as_duplicate(*cached));
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
    if (rec->fingerprint != fingerprint)
        return std::optional<CommandOutcome>{CommandOutcome{KeyReused{}}};
    return std::optional<CommandOutcome>{CommandOutcome{as_duplicate(*rec)}};
}

}  // namespace ordinal
