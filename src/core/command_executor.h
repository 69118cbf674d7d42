#pragma once
#include "ports/clock.h"
#include "ports/command_rules.h"
#include "ports/command_types.h"
#include "ports/write_transaction.h"

namespace ordinal {

// Runs one command inside an open write transaction (or savepoint): the idempotency key first,
// then the domain rules, then the write-model rows, the outbox event and the idempotency record.
// Shared by every write-store adapter so the rules live in one place. A rejection writes
// nothing. Throws StoreFailure (from `tx`) when the store fails; the caller rolls back.
CommandOutcome execute_command(WriteTransaction& tx, const CommandRequest& request,
                               const Clock& clock, IdGenerator& ids);

// execute_command as the write stores take it (ports/command_rules.h), with `clock` minting the
// times and `ids` the event ids; both must outlive every store given the rules.
CommandRules command_rules(const Clock& clock, IdGenerator& ids);

}  // namespace ordinal
