// Twin of pg_admin_rows.cpp on purpose: the admin and registry statements in SQLite's dialect and
// client library (docs/building.md#repeated-code).
#include "adapters/sqlite/sqlite_admin_rows.h"

namespace ordinal::sqlite {
namespace {

// Unix ms now. Every process on this file shares the machine's clock.
const std::string kNowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
const std::string kColumns =
    "id, kind, target, state, requested_by, owner, attempts, requested_ms, started_ms, "
    "finished_ms, progress, result, error_code, error, reason";

std::optional<AdminRequest> first(Query q) {
    if (!q.next()) return std::nullopt;
    AdminRequest a;
    a.id = q.int64(0);
    a.kind = q.text(1);
    a.target = q.opt_int64(2);
    a.state = q.text(3);
    a.requested_by = q.text(4);
    a.owner = q.text(5);
    a.attempts = q.int64(6);
    a.requested_ms = q.int64(7);
    a.started_ms = q.int64(8);
    a.finished_ms = q.int64(9);
    a.progress = q.text(10);
    a.result = q.text(11);
    a.error_code = q.text(12);
    a.error = q.text(13);
    a.reason = q.text(14);
    return a;
}

}  // namespace

std::pair<AdminRequest, bool> submit_admin_request(Connection& conn, const std::string& kind,
                                                   std::optional<std::int64_t> target,
                                                   const std::string& reason,
                                                   const std::string& requested_by) {
    if (kind == "rebuild") {
        auto running = first(conn.query("SELECT " + kColumns +
                                        " FROM admin_requests WHERE kind = 'rebuild' AND state IN "
                                        "('queued', 'running')"));
        if (running) return {std::move(*running), false};
    }
    return {*first(conn.query("INSERT INTO admin_requests (kind, target, reason, requested_by, "
                              "requested_ms) VALUES (?, ?, ?, ?, " +
                                  kNowMs + ") RETURNING " + kColumns,
                              kind, target, reason, requested_by)),
            true};
}

std::optional<AdminRequest> claim_admin_request(Connection& conn, const std::string& owner,
                                                std::int64_t stale_after_ms) {
    std::int64_t claimed = 0;
    {
        auto id = conn.query(
            "SELECT r.id FROM admin_requests r WHERE r.state = 'queued' OR (r.state = 'running' "
            "AND (r.owner = ?1 OR NOT EXISTS (SELECT 1 FROM processes p WHERE p.id = r.owner AND "
            "p.last_seen_ms >= " +
                kNowMs + " - ?2))) ORDER BY r.id LIMIT 1",
            owner, stale_after_ms);
        if (!id.next()) return std::nullopt;
        claimed = id.int64(0);
    }
    conn.exec(
        "UPDATE admin_requests SET state = 'running', owner = ?, attempts = attempts + 1, "
        "started_ms = " +
            kNowMs + ", progress = '' WHERE id = ?",
        owner, claimed);
    return select_admin_request(conn, claimed);
}

bool report_admin_progress(Connection& conn, std::int64_t id, const std::string& owner,
                           const std::string& progress) {
    return conn.exec(
               "UPDATE admin_requests SET progress = ? WHERE id = ? AND owner = ? AND state "
               "= 'running'",
               progress, id, owner) == 1;
}

bool finish_admin_request(Connection& conn, const AdminRequest& o) {
    const bool ours =
        conn.exec(
            "UPDATE admin_requests SET state = ?, result = ?, error_code = ?, error = ?, "
            "progress = ?, finished_ms = " +
                kNowMs + " WHERE id = ? AND owner = ? AND state = 'running'",
            o.state, o.result, o.error_code, o.error, o.progress, o.id, o.owner) == 1;
    if (ours) insert_audit(conn, audit_entry_of(o));
    return ours;
}

void insert_audit(Connection& conn, const AuditEntry& e) {
    conn.exec(
        "INSERT INTO admin_audit (at_ms, action, target, reason, outcome, result, process, "
        "requested_by, request_id) VALUES (" +
            kNowMs + ", ?, ?, ?, ?, ?, ?, ?, ?)",
        e.action, e.target, e.reason, e.outcome, e.result, e.process, e.requested_by, e.request);
}

std::vector<AuditEntry> select_audit(Connection& conn, std::size_t limit) {
    Query q = conn.query(
        "SELECT id, at_ms, action, target, reason, outcome, result, process, requested_by, "
        "request_id FROM admin_audit ORDER BY id DESC LIMIT ?",
        static_cast<std::int64_t>(limit));
    std::vector<AuditEntry> out;
    while (q.next()) {
        out.push_back(AuditEntry{q.int64(0), q.int64(1), q.text(2), q.text(3), q.text(4), q.text(5),
                                 q.text(6), q.text(7), q.text(8), q.opt_int64(9)});
    }
    return out;
}

std::optional<AdminRequest> select_admin_request(Connection& conn, std::int64_t id) {
    return first(conn.query("SELECT " + kColumns + " FROM admin_requests WHERE id = ?", id));
}

void upsert_process(Connection& conn, const ProcessRecord& self) {
    conn.exec(
        "INSERT INTO processes (id, roles, version, started_ms, last_seen_ms, detail) VALUES "
        "(?, ?, ?, ?, " +
            kNowMs +
            ", ?) ON CONFLICT (id) DO UPDATE SET last_seen_ms = "
            "excluded.last_seen_ms, detail = excluded.detail",
        self.id, self.roles, self.version, self.started_ms, self.detail);
    conn.exec("DELETE FROM processes WHERE last_seen_ms < " + kNowMs + " - 86400000");
}

std::vector<ProcessRecord> select_processes(Connection& conn) {
    Query q = conn.query("SELECT id, roles, version, started_ms, last_seen_ms, " + kNowMs +
                         " - last_seen_ms, detail FROM processes ORDER BY started_ms, id");
    std::vector<ProcessRecord> out;
    while (q.next()) {
        out.push_back(ProcessRecord{q.text(0), q.text(1), q.text(2), q.int64(3), q.int64(4),
                                    q.int64(5), q.text(6)});
    }
    return out;
}

}  // namespace ordinal::sqlite
