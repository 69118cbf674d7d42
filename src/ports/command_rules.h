#pragma once
// The command rules as a write store runs them: one command inside the store's open write
// transaction (or savepoint) — the idempotency key first, then the domain rules, then the
// write-model rows, the outbox event and the idempotency record; a rejection writes nothing. The
// core's (core/command_executor.h: command_rules()) is handed to every write store by the
// composition root, so the rules live in one place and no adapter includes core/. Throws
// StoreFailure (from `tx`) when the store fails; the store rolls back.
#include <functional>

#include "ports/command_types.h"
#include "ports/write_transaction.h"

namespace ordinal {

using CommandRules =
    std::function<CommandOutcome(WriteTransaction& tx, const CommandRequest& request)>;

}  // namespace ordinal
