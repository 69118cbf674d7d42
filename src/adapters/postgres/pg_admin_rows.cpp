// Twin of sqlite_admin_rows.cpp on purpose: the admin and registry statements in PostgreSQL's
// dialect and client library (docs/building.md#repeated-code).
#include "adapters/postgres/pg_admin_rows.h"

namespace ordinal::pg {
namespace {

// The server's clock in Unix ms: every process compares heartbeats against one clock.
const std::string kNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
const std::string kColumns =
    "id, kind, target, state, requested_by, owner, attempts, requested_ms, started_ms, "
    "finished_ms, progress, result, error_code, error";
// Claims and submissions serialize on this (one short transaction each), so a claim sees every
// earlier one and two processes never take the same request.
constexpr std::int64_t kAdminLock = 0x6f7264696e616c41;  // 'ordinalA'

AdminRequest read_request(const Result& r, int i) {
    AdminRequest a;
    a.id = r.int64(i, 0);
    a.kind = r.text(i, 1);
    a.target = r.opt_int64(i, 2);
    a.state = r.text(i, 3);
    a.requested_by = r.text(i, 4);
    a.owner = r.text(i, 5);
    a.attempts = r.int64(i, 6);
    a.requested_ms = r.int64(i, 7);
    a.started_ms = r.int64(i, 8);
    a.finished_ms = r.int64(i, 9);
    a.progress = r.text(i, 10);
    a.result = r.text(i, 11);
    a.error_code = r.text(i, 12);
    a.error = r.text(i, 13);
    return a;
}

std::optional<AdminRequest> first(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return read_request(r, 0);
}

}  // namespace

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& requested_by) {
    Transaction tx(conn);
    conn.exec("SELECT pg_advisory_xact_lock($1)", kAdminLock);
    if (kind == "rebuild") {
        auto running = first(conn.exec("SELECT " + kColumns +
                                       " FROM admin_requests WHERE kind = 'rebuild' AND state IN "
                                       "('queued', 'running')"));
        if (running) {
            tx.commit();
            return {std::move(*running), false};
        }
    }
    auto created = read_request(
        conn.exec("INSERT INTO admin_requests (kind, target, requested_by, requested_ms) VALUES "
                  "($1, $2, $3, " +
                      kNowMs + ") RETURNING " + kColumns,
                  kind, target, requested_by),
        0);
    tx.commit();
    return {std::move(created), true};
}

std::optional<AdminRequest> claim_admin_request(Connection& conn, const std::string& owner,
                                                std::int64_t stale_after_ms) {
    Transaction tx(conn);
    conn.exec("SELECT pg_advisory_xact_lock($1)", kAdminLock);
    auto claimed = first(conn.exec(
        "UPDATE admin_requests SET state = 'running', owner = $1, attempts = attempts + 1, "
        "started_ms = " +
            kNowMs +
            ", progress = '' WHERE id = (SELECT r.id FROM admin_requests r "
            "WHERE r.state = 'queued' OR (r.state = 'running' AND (r.owner = $1 OR NOT EXISTS "
            "(SELECT 1 "
            "FROM processes p WHERE p.id = r.owner AND p.last_seen_ms >= " +
            kNowMs +
            " - $2))) "
            "ORDER BY r.id LIMIT 1) "
            "RETURNING " +
            kColumns,
        owner, stale_after_ms));
    tx.commit();
    return claimed;
}

bool report_admin_progress(Connection& conn, std::int64_t id, const std::string& owner,
                           const std::string& progress) {
    return conn.exec(
                   "UPDATE admin_requests SET progress = $3 WHERE id = $1 AND owner = $2 AND "
                   "state = 'running'",
                   id, owner, progress)
               .affected() == 1;
}

bool finish_admin_request(Connection& conn, const AdminRequest& o) {
    return conn.exec(
                   "UPDATE admin_requests SET state = $3, result = $4, error_code = $5, "
                   "error = $6, progress = $7, finished_ms = " +
                       kNowMs + " WHERE id = $1 AND owner = $2 AND state = 'running'",
                   o.id, o.owner, o.state, o.result, o.error_code, o.error, o.progress)
               .affected() == 1;
}

std::optional<AdminRequest> select_admin_request(Connection& conn, std::int64_t id) {
    return first(conn.exec("SELECT " + kColumns + " FROM admin_requests WHERE id = $1", id));
}

void upsert_process(Connection& conn, const ProcessRecord& self) {
    conn.exec(
        "INSERT INTO processes (id, roles, version, started_ms, last_seen_ms, detail) "
        "VALUES ($1, $2, $3, $4, " +
            kNowMs +
            ", $5) ON CONFLICT (id) DO UPDATE SET "
            "last_seen_ms = excluded.last_seen_ms, detail = excluded.detail",
        self.id, self.roles, self.version, self.started_ms, self.detail);
    conn.exec("DELETE FROM processes WHERE last_seen_ms < " + kNowMs + " - 86400000");
}

std::vector<ProcessRecord> select_processes(Connection& conn) {
    Result r = conn.exec("SELECT id, roles, version, started_ms, last_seen_ms, " + kNowMs +
                         " - last_seen_ms, detail FROM processes ORDER BY started_ms, id");
    std::vector<ProcessRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(ProcessRecord{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.int64(i, 3),
                                    r.int64(i, 4), r.int64(i, 5), r.text(i, 6)});
    }
    return out;
}

}  // namespace ordinal::pg
