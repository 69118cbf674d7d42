#pragma once
// A thin RAII layer over one sqlite3 connection: opening with the project's pragmas, a cache of
// prepared statements, and queries whose values are always bound parameters (never spliced into
// SQL text). sqlite3.h stays in the .cpp files of this folder.
//
// Error policy: every failure throws StoreFailure (ports/write_transaction.h) carrying a
// StoreError whose kind says whether a retry may help (busy/locked -> Timeout, I/O, full disk,
// cannot open -> Unavailable, anything else -> Internal). The store classes of this folder catch
// it at the port boundary; nothing here leaks past a port.
//
// Thread-safety: a Connection (and every Query on it) is used by one thread at a time. Sharing
// happens through SqliteConnectionPool or a mutex held by the owner.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "ports/store_error.h"
#include "ports/write_transaction.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ordinal::sqlite {

struct ConnectionOptions {
    std::string path;
    bool create = true;      // create the file if missing
    bool durable = true;     // synchronous=FULL: a commit survives power loss once it returns
    bool read_only = false;  // query_only=1: the connection refuses to write
    int busy_timeout_ms = 5000;
};

class Connection;

// One execution of a prepared statement. Borrowed from the connection's cache and reset (with
// its bindings cleared) when destroyed, so the next use starts clean.
class Query {
  public:
    Query(Query&& other) noexcept;
    Query& operator=(Query&&) = delete;
    ~Query();

    // Advances to the next row: true if there is one, false when the statement is done.
    bool next();
    // Runs the statement to completion (for INSERT/UPDATE/DELETE).
    void run();

    bool is_null(int col) const;
    std::int64_t int64(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;  // NULL -> nullopt
    std::string text(int col) const;

  private:
    friend class Connection;
    Query(const Connection& conn, sqlite3_stmt* stmt, bool* in_use);

    const Connection* conn_;
    sqlite3_stmt* stmt_;
    // The cache slot's busy flag; nullptr for a one-off statement, finalized on destruction.
    bool* in_use_;
};

class Connection {
  public:
    // Opens `options.path` and applies WAL mode, synchronous, busy_timeout. Throws StoreFailure.
    static Connection open(const ConnectionOptions& options);

    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // Prepares (or reuses) `sql` and binds `args` to ?1, ?2, ... in order. Supported argument
    // types: integers, std::string / std::string_view / const char*, std::optional<std::int64_t>,
    // std::optional<std::string_view> and std::nullopt (NULL).
    template <class... Args>
    Query query(std::string_view sql, const Args&... args) {
        Query q = prepare(sql);
        int index = 1;
        (bind(q, index++, args), ...);
        return q;
    }

    // query(...).run(), returning the number of rows changed.
    template <class... Args>
    std::int64_t exec(std::string_view sql, const Args&... args) {
        query(sql, args...).run();
        return changes();
    }

    // Runs constant SQL that takes no values (schema DDL, BEGIN/COMMIT, pragmas); may hold
    // several statements. Never pass text that contains data.
    void exec_script(const char* sql);

    std::int64_t changes() const;
    // True while a transaction is open. SQLite rolls a transaction back by itself after some
    // errors (I/O, full disk); callers check this before trusting a savepoint.
    bool in_transaction() const;

    const std::string& path() const { return path_; }

    // Rolls back the open transaction, if any, ignoring errors (used on error paths).
    void rollback_quietly() noexcept;

    // Builds the StoreFailure for a result code of this connection.
    [[noreturn]] void fail(int rc, std::string_view what) const;

  private:
    Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
    Query prepare(std::string_view sql);
    void close() noexcept;

    template <class T>
    static void bind(Query& q, int index, const T& v) {
        if constexpr (std::is_same_v<T, std::nullopt_t>) {
            bind_null(q, index);
        } else if constexpr (std::is_same_v<T, std::optional<std::int64_t>>) {
            if (v)
                bind_int64(q, index, *v);
            else
                bind_null(q, index);
        } else if constexpr (std::is_same_v<T, std::optional<std::string_view>>) {
            if (v)
                bind_text(q, index, *v);
            else
                bind_null(q, index);
        } else if constexpr (std::is_integral_v<T>) {
            bind_int64(q, index, static_cast<std::int64_t>(v));
        } else {
            bind_text(q, index, std::string_view(v));
        }
    }
    static void bind_int64(Query& q, int index, std::int64_t v);
    static void bind_text(Query& q, int index, std::string_view v);
    static void bind_null(Query& q, int index);

    struct CachedStatement {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;  // a Query holds it; a nested use of the same SQL gets a one-off copy
    };

    sqlite3* db_ = nullptr;
    std::string path_;
    std::unordered_map<std::string, CachedStatement> cache_;
};

// BEGIN ... COMMIT with rollback on scope exit unless committed. Rollback errors are swallowed:
// it runs on error paths, and SQLite may already have rolled back by itself.
class Transaction {
  public:
    enum class Mode { Deferred, Immediate };
    Transaction(Connection& conn, Mode mode);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();  // throws StoreFailure; the transaction is then rolled back by the destructor

  private:
    Connection& conn_;
    bool open_ = true;
};

// StoreError for failures that did not come with an SQLite result code.
StoreError internal_error(std::string message);

}  // namespace ordinal::sqlite
