// Twin of pg_connection.cpp on purpose: the connection wrapper in SQLite's dialect and client
// library (docs/building.md#repeated-code).
#include "adapters/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <utility>

namespace ordinal::sqlite {
namespace {

StoreError::Kind kind_for(int rc) {
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return StoreError::Kind::Timeout;  // another writer held the lock past busy_timeout
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
            return StoreError::Kind::Unavailable;
        default:
            return StoreError::Kind::Internal;  // corrupt file, constraint broken, misuse: a bug
    }
}

[[noreturn]] void throw_failure(int rc, std::string_view what, const char* detail) {
    StoreError e;
    e.kind = kind_for(rc);
    e.message = "sqlite: " + std::string(what) + ": " + (detail ? detail : sqlite3_errstr(rc)) +
                " (code " + std::to_string(rc) + ")";
    throw StoreFailure(std::move(e));
}

}  // namespace

StoreError internal_error(std::string message) {
    StoreError e;
    e.kind = StoreError::Kind::Internal;
    e.message = std::move(message);
    return e;
}

// ---- Query ------------------------------------------------------------------------------------

Query::Query(const Connection& conn, sqlite3_stmt* stmt, bool* in_use)
    : conn_(&conn), stmt_(stmt), in_use_(in_use) {}

Query::Query(Query&& other) noexcept
    : conn_(other.conn_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)) {}

Query::~Query() {
    if (!stmt_) return;
    if (in_use_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
        *in_use_ = false;
    } else {
        sqlite3_finalize(stmt_);
    }
}

bool Query::next() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    conn_->fail(rc, sqlite3_sql(stmt_));
}

void Query::run() {
    while (next()) {
    }
}

bool Query::is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t Query::int64(int col) const {
    return sqlite3_column_int64(stmt_, col);
}

std::optional<std::int64_t> Query::opt_int64(int col) const {
    if (is_null(col)) return std::nullopt;
    return int64(col);
}

std::string Query::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (!p) return {};
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

// ---- Connection -------------------------------------------------------------------------------

Connection Connection::open(const ConnectionOptions& options) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;  // one thread at a time per connection
    if (options.create) flags |= SQLITE_OPEN_CREATE;
    const int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        throw_failure(rc, "open " + options.path, detail.c_str());
    }
    Connection conn(db, options.path);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);

    // WAL lets readers run beside the one writer. The mode is persistent in the file; asking for
    // it also proves the file is a database.
    {
        Query q = conn.query("PRAGMA journal_mode=WAL");
        if (!q.next() || q.text(0) != "wal") {
            throw StoreFailure(
                internal_error("sqlite: " + options.path + " cannot use WAL journal mode"));
        }
    }
    // FULL syncs the WAL at every commit: an acknowledged commit survives power loss. NORMAL still
    // survives a process crash (the WAL is in the OS cache) but may lose the last commits on power
    // loss.
    conn.exec_script(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (options.read_only) conn.exec_script("PRAGMA query_only=1");
    return conn;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      cache_(std::move(other.cache_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

Connection::~Connection() {
    close();
}

void Connection::close() noexcept {
    for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
    cache_.clear();
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
}

void Connection::fail(int rc, std::string_view what) const {
    throw_failure(rc, what, db_ ? sqlite3_errmsg(db_) : nullptr);
}

Query Connection::prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end() && !it->second.in_use) {
        it->second.in_use = true;
        return Query(*this, it->second.stmt, &it->second.in_use);
    }
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) fail(rc, "prepare " + std::string(sql));
    if (!stmt || tail != sql.data() + sql.size()) {
        sqlite3_finalize(stmt);
        throw StoreFailure(
            internal_error("sqlite: query() takes exactly one statement: " + std::string(sql)));
    }
    if (it != cache_.end()) return Query(*this, stmt, nullptr);  // nested use of a busy statement
    auto& slot = cache_[std::string(sql)];
    slot.stmt = stmt;
    slot.in_use = true;
    return Query(*this, stmt, &slot.in_use);
}

void Connection::bind_int64(Query& q, int index, std::int64_t v) {
    const int rc = sqlite3_bind_int64(q.stmt_, index, v);
    if (rc != SQLITE_OK) q.conn_->fail(rc, "bind");
}

void Connection::bind_text(Query& q, int index, std::string_view v) {
    // SQLITE_TRANSIENT: SQLite copies the text, so arguments may be temporaries.
    const int rc =
        sqlite3_bind_text64(q.stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) q.conn_->fail(rc, "bind");
}

void Connection::bind_null(Query& q, int index) {
    const int rc = sqlite3_bind_null(q.stmt_, index);
    if (rc != SQLITE_OK) q.conn_->fail(rc, "bind");
}

void Connection::exec_script(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string detail = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw_failure(rc, sql, detail.c_str());
    }
}

std::int64_t Connection::changes() const {
    return sqlite3_changes64(db_);
}

bool Connection::in_transaction() const {
    return db_ && sqlite3_get_autocommit(db_) == 0;
}

void Connection::rollback_quietly() noexcept {
    if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// ---- Transaction ------------------------------------------------------------------------------

Transaction::Transaction(Connection& conn, Mode mode) : conn_(conn) {
    // IMMEDIATE takes the write lock up front, so a write never fails half-way on a lock upgrade.
    conn_.query(mode == Mode::Immediate ? "BEGIN IMMEDIATE" : "BEGIN").run();
}

Transaction::~Transaction() {
    if (open_) conn_.rollback_quietly();
}

void Transaction::commit() {
    conn_.query("COMMIT").run();
    open_ = false;
}

}  // namespace ordinal::sqlite
