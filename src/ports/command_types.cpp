#include "ports/command_types.h"

namespace ordinal {

CommandOutcome answer_for_recorded_key(const IdempotencyRecord& record,
                                       const std::string& fingerprint) {
    if (record.fingerprint != fingerprint) return KeyReused{};
    Acknowledgement ack = record.ack;
    ack.duplicate = true;
    return ack;
}

std::string outcome_label(const CommandOutcome& outcome) {
    if (const auto* ack = std::get_if<Acknowledgement>(&outcome))
        return ack->duplicate ? "duplicate" : "accepted";
    if (const auto* err = std::get_if<DomainError>(&outcome)) return error_code_name(err->code);
    if (std::holds_alternative<KeyReused>(outcome)) return "idempotency_key_reused";
    const auto& se = std::get<StoreError>(outcome);
    return se.kind == StoreError::Kind::Overloaded ? "overloaded" : "unavailable";
}

}  // namespace ordinal
