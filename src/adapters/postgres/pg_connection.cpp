// Twin of sqlite_connection.cpp on purpose: the connection wrapper in PostgreSQL's dialect and
// client library (docs/building.md#repeated-code).
#include "adapters/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace ordinal::pg {
namespace {

StoreError make_error(StoreError::Kind kind, std::string message) {
    StoreError e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
}

StoreError::Kind kind_of(const std::string& sqlstate, bool connection_ok) {
    if (!connection_ok) return StoreError::Kind::Unavailable;
    if (sqlstate.rfind("08", 0) == 0) return StoreError::Kind::Unavailable;  // connection exception
    if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03")
        return StoreError::Kind::Unavailable;  // shutting down / starting
    if (sqlstate.rfind("53", 0) == 0)
        return StoreError::Kind::Overloaded;                    // insufficient resources
    if (sqlstate == "57014") return StoreError::Kind::Timeout;  // query canceled
    if (sqlstate == kSerializationFailure || sqlstate == kDeadlockDetected)
        return StoreError::Kind::Unavailable;  // retryable
    return StoreError::Kind::Internal;
}

std::string quote_array_element(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace

void throw_internal(const std::string& message) {
    throw PgFailure(make_error(StoreError::Kind::Internal, "postgres: " + message), "");
}

Param to_param(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += quote_array_element(values[i]);
    }
    out += '}';
    return out;
}

Param to_param(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(values[i]);
    }
    out += '}';
    return out;
}

// ---- Result ----------------------------------------------------------------------------------

Result& Result::operator=(Result&& o) noexcept {
    if (this != &o) {
        if (r_) PQclear(r_);
        r_ = o.r_;
        o.r_ = nullptr;
    }
    return *this;
}

Result::~Result() {
    if (r_) PQclear(r_);
}

int Result::rows() const {
    return PQntuples(r_);
}

std::int64_t Result::affected() const {
    const char* n = PQcmdTuples(r_);
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

bool Result::is_null(int row, int col) const {
    return PQgetisnull(r_, row, col) != 0;
}

std::string Result::text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col),
                       static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::int64_t Result::int64(int row, int col) const {
    if (is_null(row, col)) throw_internal("unexpected NULL in column " + std::to_string(col));
    const char* v = PQgetvalue(r_, row, col);
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    if (end == v || *end != '\0') throw_internal(std::string("not an integer: '") + v + "'");
    return n;
}

std::optional<std::int64_t> Result::opt_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

// ---- Connection ------------------------------------------------------------------------------

Connection Connection::open(const std::string& conninfo) {
    Connection c;
    c.conninfo_ = conninfo;
    c.reconnect();
    return c;
}

Connection::Connection(Connection&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)),
      conninfo_(std::move(o.conninfo_)),
      prepared_(std::move(o.prepared_)),
      sent_(o.sent_) {}

Connection& Connection::operator=(Connection&& o) noexcept {
    if (this != &o) {
        if (conn_) PQfinish(conn_);
        conn_ = std::exchange(o.conn_, nullptr);
        conninfo_ = std::move(o.conninfo_);
        prepared_ = std::move(o.prepared_);
        sent_ = o.sent_;
    }
    return *this;
}

Connection::~Connection() {
    if (conn_) PQfinish(conn_);
}

void Connection::reconnect() {
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    prepared_.clear();
    // Defaults first; the URI (expanded from dbname) overrides whatever it sets itself.
    //
    // Keepalives on both ends bound how long a peer that went silent (a host cut off, not
    // closed) holds on: this client gives up on its socket after 10 s idle + 3 probes 3 s apart,
    // or 15 s of unacknowledged data (tcp_user_timeout); the server, told the same through
    // `options`, drops the session as fast, releasing its advisory locks, so an isolated relay's
    // outbox partitions pass to another within about 20 s (docs/operations.md, "Timeouts and
    // failover"). A process stopped (SIGSTOP, a frozen VM) inside a transaction would hold its
    // row locks for as long as it stays stopped, and every other writer or projector touching
    // those rows would wait behind it (a stopped relay+projector froze the surviving one's
    // projection, and with it its relay, in RelayPartition.StoppedRelay…): the server ends a
    // session idle inside a transaction for 30 s. No transaction of Ordinal's waits on its
    // client that long; `ordinal verify`'s snapshot, which can, lifts it for its own session.
    // Every statement is prepared once per session with parameters and written for key lookups,
    // so it runs on its generic plan: left to choose, the server planned the writers' row-lock
    // statement anew on every call (4,846 plans for 4,842 calls under issue 15's load, ~0.5 ms
    // each) and the idempotency read on one call in four.
    const char* keys[] = {"connect_timeout",
                          "application_name",
                          "keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "options",
                          "dbname",
                          nullptr};
    const char* values[] = {"5",
                            "ordinal",
                            "1",
                            "10",
                            "3",
                            "3",
                            "15000",
                            "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=3 "
                            "-c tcp_keepalives_count=3 -c tcp_user_timeout=15000 "
                            "-c idle_in_transaction_session_timeout=30000 "
                            "-c plan_cache_mode=force_generic_plan",
                            conninfo_.c_str(),
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
        std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        if (conn_) {
            PQfinish(conn_);
            conn_ = nullptr;
        }
        throw PgFailure(
            make_error(StoreError::Kind::Unavailable, "postgres: cannot connect: " + message), "");
    }
    // Notices (e.g. "there is no transaction in progress") are not errors; keep them off stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

bool Connection::healthy() const {
    return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::in_transaction() const {
    if (!conn_) return false;
    const auto s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::in_failed_transaction() const {
    return conn_ && PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

void Connection::fail(pg_result* r, const std::string& what) {
    std::string state;
    std::string message;
    if (r) {
        if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
        message = PQresultErrorMessage(r);
        PQclear(r);
    }
    if (message.empty() && conn_) message = PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    const bool ok = healthy();
    throw PgFailure(make_error(kind_of(state, ok), "postgres: " + what + ": " + message +
                                                       (state.empty() ? "" : " [" + state + "]")),
                    state);
}

void Connection::require_healthy() const {
    if (!healthy()) {
        throw PgFailure(make_error(StoreError::Kind::Unavailable, "postgres: connection is broken"),
                        "");
    }
}

// A connection whose protocol state is no longer known (a pipeline cut short) is closed: the
// server rolls its transaction back, and the owner reconnects as after any lost connection.
void Connection::abandon(const std::string& what) {
    std::string message = conn_ ? PQerrorMessage(conn_) : "";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw PgFailure(make_error(StoreError::Kind::Unavailable, "postgres: " + what + ": " + message),
                    "");
}

const std::string& Connection::prepared_name(const std::string& sql, std::size_t params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "s";
        name += std::to_string(prepared_.size() + 1);
        ++sent_.round_trips;
        PGresult* r =
            PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(params), nullptr);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r, "prepare");
        PQclear(r);
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    return it->second;
}

namespace {
std::vector<const char*> param_values(const std::vector<Param>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    return values;
}
}  // namespace

Result Connection::exec_params(const std::string& sql, const std::vector<Param>& params) {
    require_healthy();
    const std::string& name = prepared_name(sql, params.size());
    const std::vector<const char*> values = param_values(params);
    ++sent_.round_trips;
    ++sent_.statements;
    PGresult* r = PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r, "statement");
    return Result(r);
}

std::vector<Result> Connection::exec_pipeline(const std::vector<Statement>& statements) {
    require_healthy();
    std::vector<const std::string*> names;  // prepared before the pipeline starts
    names.reserve(statements.size());
    for (const Statement& st : statements)
        names.push_back(&prepared_name(st.sql, st.params.size()));
    if (PQenterPipelineMode(conn_) != 1) abandon("pipeline");
    for (std::size_t i = 0; i < statements.size(); ++i) {
        const std::vector<const char*> values = param_values(statements[i].params);
        if (PQsendQueryPrepared(conn_, names[i]->c_str(), static_cast<int>(values.size()),
                                values.data(), nullptr, nullptr, 0) != 1)
            abandon("pipeline send");
    }
    if (PQpipelineSync(conn_) != 1) abandon("pipeline sync");
    ++sent_.round_trips;
    sent_.statements += statements.size();

    // Each statement answers with one result then NULL (aborted ones: PGRES_PIPELINE_ABORTED),
    // the sync with PGRES_PIPELINE_SYNC. Anything else leaves the protocol state unknown.
    std::vector<Result> out;
    out.reserve(statements.size());
    Result failed(nullptr);
    for (std::size_t i = 0; i < statements.size(); ++i) {
        PGresult* r = PQgetResult(conn_);
        if (!r) abandon("pipeline result");
        const auto status = PQresultStatus(r);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            out.emplace_back(r);
        } else if (status == PGRES_FATAL_ERROR && !failed.get()) {
            failed = Result(r);
        } else if (status == PGRES_PIPELINE_ABORTED && failed.get()) {
            PQclear(r);
        } else {
            PQclear(r);
            abandon("pipeline result");
        }
        if (PGresult* extra = PQgetResult(conn_)) {
            PQclear(extra);
            abandon("pipeline result");
        }
    }
    PGresult* sync = PQgetResult(conn_);
    const bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    if (sync) PQclear(sync);
    if (!synced) abandon("pipeline end");
    if (PGresult* extra = PQgetResult(conn_)) {
        PQclear(extra);
        abandon("pipeline end");
    }
    if (PQexitPipelineMode(conn_) != 1) abandon("pipeline end");
    if (failed.get()) fail(failed.release(), "statement");
    return out;
}

void Connection::exec_script(const std::string& sql) {
    if (!healthy()) {
        throw PgFailure(make_error(StoreError::Kind::Unavailable, "postgres: connection is broken"),
                        "");
    }
    ++sent_.round_trips;
    ++sent_.statements;
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r, sql.substr(0, 40));
    PQclear(r);
}

// ---- Transaction -----------------------------------------------------------------------------

Transaction::Transaction(Connection& conn, const char* begin) : conn_(conn) {
    if (begin) conn_.exec_script(begin);
}

Transaction::~Transaction() {
    if (!open_ || !conn_.healthy() || !conn_.in_transaction()) return;
    try {
        conn_.exec_script("ROLLBACK");
    } catch (...) {
    }
}

void Transaction::commit() {
    conn_.exec_script("COMMIT");
    open_ = false;
}

}  // namespace ordinal::pg
