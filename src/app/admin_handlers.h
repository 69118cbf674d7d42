#pragma once
// The admin request kinds a projector process carries out besides rebuild and retry (which need
// the service's relay and consumer, so they stay in service.cpp): discarding a dead letter and
// running the store verifier. Each answers as AdminWorker::Handler does.
#include "app/settings.h"
#include "core/admin_requests.h"
#include "ports/read_store.h"

namespace ordinal {

// kDiscardRequest: marks the target discarded with the request's reason; not_found when the
// store has no such dead letter.
AdminOutcome discard_dead_letter(ReadStore& store, const AdminRequest& request);

// kVerifyRequest: `ordinal verify` over the stores of `settings`, in this process: the audits
// open connections of their own, read-only, and take the same snapshots the command does, so
// the service goes on serving meanwhile. The result is the verify report's JSON.
AdminOutcome verify_stores_now(const Settings& settings);

}  // namespace ordinal
