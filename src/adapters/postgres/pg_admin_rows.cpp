// Twin of sqlite_admin_rows.cpp on purpose: the admin and registry statements in PostgreSQL's
// dialect and client library (docs/building.md#repeated-code).
#include "adapters/postgres/pg_admin_rows.h"

#include "adapters/postgres/pg_projection.h"

namespace ordinal::pg {
namespace {

// The server's clock in Unix ms: every process compares heartbeats against one clock.
const std::string kNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
const std::string kColumns =
    "id, kind, target, state, requested_by, owner, attempts, requested_ms, started_ms, "
    "finished_ms, progress, result, error_code, error, reason";
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
    a.reason = r.text(i, 14);
    return a;
}

std::optional<AdminRequest> first(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return read_request(r, 0);
}

}  // namespace

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& reason,
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
        conn.exec("INSERT INTO admin_requests (kind, target, reason, requested_by, requested_ms) "
                  "VALUES ($1, $2, $3, $4, " +
                      kNowMs + ") RETURNING " + kColumns,
                  kind, target, reason, requested_by),
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
    Transaction tx(conn);
    const bool ours = conn.exec(
                              "UPDATE admin_requests SET state = $3, result = $4, error_code = $5, "
                              "error = $6, progress = $7, finished_ms = " +
                                  kNowMs + " WHERE id = $1 AND owner = $2 AND state = 'running'",
                              o.id, o.owner, o.state, o.result, o.error_code, o.error, o.progress)
                          .affected() == 1;
    if (ours) insert_audit(conn, audit_entry_of(o));
    tx.commit();
    return ours;
}

void insert_audit(Connection& conn, const AuditEntry& e) {
    conn.exec(
        "INSERT INTO admin_audit (at_ms, action, target, reason, outcome, result, process, "
        "requested_by, request_id) VALUES (" +
            kNowMs + ", $1, $2, $3, $4, $5, $6, $7, $8)",
        e.action, e.target, e.reason, e.outcome, e.result, e.process, e.requested_by, e.request);
}

std::vector<AuditEntry> select_audit(Connection& conn, std::size_t limit) {
    Result r = conn.exec(
        "SELECT id, at_ms, action, target, reason, outcome, result, process, requested_by, "
        "request_id FROM admin_audit ORDER BY id DESC LIMIT $1",
        limit);
    std::vector<AuditEntry> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(AuditEntry{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.text(i, 3),
                                 r.text(i, 4), r.text(i, 5), r.text(i, 6), r.text(i, 7),
                                 r.text(i, 8), r.opt_int64(i, 9)});
    }
    return out;
}

std::vector<DeadLetter> select_dead_letters(Connection& conn, const DeadLetterQuery& q) {
    // One statement for every combination of filters: an empty parameter matches everything.
    Result r = conn.exec(
        "SELECT id, partition, \"offset\", stream, version, event_type, encode(payload, 'hex'), "
        "reason, created_at FROM dead_letters WHERE discarded_at IS NULL AND ($1::text = '' OR "
        "event_type = $1::text) AND ($2::text = '' OR strpos(reason, $2::text) > 0) AND "
        "($3::text = '' OR created_at >= $3::text) AND ($4::text = '' OR created_at < $4::text) "
        "ORDER BY id LIMIT $5",
        q.event_type, q.reason, q.since, q.until, q.limit);
    std::vector<DeadLetter> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(DeadLetter{r.int64(i, 0), BusPosition{r.text(i, 1), r.int64(i, 2)},
                                 r.text(i, 3), r.int64(i, 4), r.text(i, 5), from_hex(r.text(i, 6)),
                                 r.text(i, 7), r.text(i, 8)});
    }
    return out;
}

std::int64_t count_dead_letters(Connection& conn) {
    return conn.exec("SELECT COUNT(*) FROM dead_letters WHERE discarded_at IS NULL").int64(0, 0);
}

bool discard_dead_letter(Connection& conn, std::int64_t id, const std::string& reason) {
    return conn.exec(
                   "UPDATE dead_letters SET discard_reason = CASE WHEN discarded_at IS NULL THEN "
                   "$2 ELSE discard_reason END, discarded_at = coalesce(discarded_at, "
                   "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
                   "WHERE id = $1",
                   id, reason)
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
