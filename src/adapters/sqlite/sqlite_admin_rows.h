#pragma once
// Twin of pg_admin_rows.h on purpose: the admin and registry statements in SQLite's dialect and
// client library (docs/building.md#repeated-code).
// The read store's admin requests and process registry (read-store migrations 4 and 5): the
// statements behind ReadStore's admin and heartbeat methods. Writers run inside the store's
// IMMEDIATE transaction, which serializes them across processes. All throw StoreFailure.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/sqlite/sqlite_connection.h"
#include "ports/read_store.h"

namespace ordinal::sqlite {

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& reason,
                                                   const std::string& requested_by);
std::optional<AdminRequest> claim_admin_request(Connection& conn, const std::string& owner,
                                                std::int64_t stale_after_ms);
bool report_admin_progress(Connection& conn, std::int64_t id, const std::string& owner,
                           const std::string& progress);
// Also appends the request's audit entry when the outcome is recorded.
bool finish_admin_request(Connection& conn, const AdminRequest& outcome);
std::optional<AdminRequest> select_admin_request(Connection& conn, std::int64_t id);

void insert_audit(Connection& conn, const AuditEntry& entry);
std::vector<AuditEntry> select_audit(Connection& conn, std::size_t limit);

void upsert_process(Connection& conn, const ProcessRecord& self);
std::vector<ProcessRecord> select_processes(Connection& conn);

}  // namespace ordinal::sqlite
