#pragma once
// What flows between the API, the command service and the write store.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "domain/commands.h"
#include "domain/domain_error.h"
#include "domain/stream.h"
#include "ports/store_error.h"
#include "ports/trace_context.h"

namespace ordinal {

struct CommandRequest {
    std::string idempotency_key;  // canonical (lower-case) UUID
    std::string fingerprint;  // identifies the payload: type, target and body fields but the key
    Command command;
    // Stored with the command's event (outbox metadata, not business data): never part of the
    // fingerprint, so a retry from another trace is still the same command.
    TraceContext trace{};
};

// The acknowledgement of an accepted command (never read-model data).
struct Acknowledgement {
    bool duplicate = false;
    std::string event_id;
    StreamKey stream;
    std::int64_t version = 0;
    std::string consistency_token;
};

// What is kept under an idempotency key once its command was accepted.
struct IdempotencyRecord {
    std::string key;
    std::string fingerprint;
    std::string command_type;
    Acknowledgement ack;  // as first answered (duplicate == false)
    std::int64_t created_unix_ms = 0;
};

struct KeyReused {};

using CommandOutcome = std::variant<Acknowledgement, DomainError, KeyReused, StoreError>;

// What a command whose key is already recorded gets: KeyReused for another payload, else the
// first answer marked duplicate. The one place that decides it, whoever found the record (the
// idempotency cache, the write transaction, CommandApi::answer_for_used_key).
CommandOutcome answer_for_recorded_key(const IdempotencyRecord& record,
                                       const std::string& fingerprint);

// The outcome as metrics and the command log name it: "accepted", "duplicate", the rejection's
// error_code_name ("not_found", ...), "idempotency_key_reused", "unavailable", "overloaded".
std::string outcome_label(const CommandOutcome& outcome);

}  // namespace ordinal
