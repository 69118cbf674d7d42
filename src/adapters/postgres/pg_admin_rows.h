#pragma once
// Twin of sqlite_admin_rows.h on purpose: the admin and registry statements in PostgreSQL's dialect
// and client library (docs/building.md#repeated-code).
// The read store's admin requests and process registry (read-store migrations 4 and 5): the
// statements behind ReadStore's admin and heartbeat methods. Each runs on a pooled connection of
// its own, beside the projector's writer, so an operator's request never waits behind a projection
// batch. All throw PgFailure.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "ports/read_store.h"

namespace ordinal::pg {

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& reason,
                                                   const std::string& requested_by);
std::optional<AdminRequest> claim_admin_request(Connection& conn, const std::string& owner,
                                                std::int64_t stale_after_ms);
bool report_admin_progress(Connection& conn, std::int64_t id, const std::string& owner,
                           const std::string& progress);
// Also appends the request's audit entry, in the same transaction, when the outcome is recorded.
bool finish_admin_request(Connection& conn, const AdminRequest& outcome);
std::optional<AdminRequest> select_admin_request(Connection& conn, std::int64_t id);

// The audit log (migration 5).
void insert_audit(Connection& conn, const AuditEntry& entry);
std::vector<AuditEntry> select_audit(Connection& conn, std::size_t limit);

// Dead letters as operators see them: searched, counted and discarded; discarded ones are
// tombstones (ReadStore::discard_dead_letter), never listed or counted.
std::vector<DeadLetter> select_dead_letters(Connection& conn, const DeadLetterQuery& query);
std::int64_t count_dead_letters(Connection& conn);
bool discard_dead_letter(Connection& conn, std::int64_t id, const std::string& reason);

void upsert_process(Connection& conn, const ProcessRecord& self);
std::vector<ProcessRecord> select_processes(Connection& conn);

}  // namespace ordinal::pg
