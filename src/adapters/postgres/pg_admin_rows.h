#pragma once
// Twin of sqlite_admin_rows.h on purpose: the admin and registry statements in PostgreSQL's dialect
// and client library (docs/building.md#repeated-code).
// The read store's admin requests and process registry (read-store migration 4): the statements
// behind ReadStore's admin and heartbeat methods. Each runs on a pooled connection of its own,
// beside the projector's writer, so an operator's request never waits behind a projection batch.
// All throw PgFailure.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "ports/read_store.h"

namespace ordinal::pg {

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& requested_by);
std::optional<AdminRequest> claim_admin_request(Connection& conn, const std::string& owner,
                                                std::int64_t stale_after_ms);
bool report_admin_progress(Connection& conn, std::int64_t id, const std::string& owner,
                           const std::string& progress);
bool finish_admin_request(Connection& conn, const AdminRequest& outcome);
std::optional<AdminRequest> select_admin_request(Connection& conn, std::int64_t id);

void upsert_process(Connection& conn, const ProcessRecord& self);
std::vector<ProcessRecord> select_processes(Connection& conn);

}  // namespace ordinal::pg
