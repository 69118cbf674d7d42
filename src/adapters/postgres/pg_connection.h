#pragma once
// One libpq connection: prepared statements with bound text parameters, errors classified into
// StoreError kinds. Only this folder includes libpq; this header forward-declares it.
//
// Every method throws PgFailure (a StoreFailure) on error: Unavailable when the connection is
// lost or the server is shutting down or starting, Overloaded for a lack of resources, Internal
// otherwise. The SQLSTATE travels with it so callers can retry deadlocks, serialization failures
// and unique violations. Not thread-safe: one connection, one thread at a time.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ports/store_error.h"
#include "ports/write_transaction.h"

struct pg_conn;
struct pg_result;

namespace ordinal::pg {

inline constexpr const char* kUniqueViolation = "23505";
inline constexpr const char* kSerializationFailure = "40001";
inline constexpr const char* kDeadlockDetected = "40P01";

class PgFailure : public StoreFailure {
  public:
    PgFailure(StoreError e, std::string state)
        : StoreFailure(std::move(e)), sqlstate(std::move(state)) {}
    std::string sqlstate;  // empty when the connection failed without one
};

[[noreturn]] void throw_internal(const std::string& message);

// Parameters are sent as text (NULL for nullopt).
using Param = std::optional<std::string>;

inline Param to_param(const std::string& s) {
    return s;
}
inline Param to_param(const char* s) {
    return std::string(s);
}
inline Param to_param(std::int64_t v) {
    return std::to_string(v);
}
inline Param to_param(int v) {
    return std::to_string(v);
}
inline Param to_param(std::size_t v) {
    return std::to_string(v);
}
inline Param to_param(bool v) {
    return std::string(v ? "true" : "false");
}
inline Param to_param(const std::optional<std::int64_t>& v) {
    return v ? Param(std::to_string(*v)) : std::nullopt;
}
// A text[] or bigint[] literal.
Param to_param(const std::vector<std::string>& values);
Param to_param(const std::vector<std::int64_t>& values);

// One statement of a pipeline: its SQL (prepared on first use, as exec) and parameters.
struct Statement {
    std::string sql;
    std::vector<Param> params;
};
template <class... Args>
Statement statement(std::string sql, const Args&... args) {
    return Statement{std::move(sql), std::vector<Param>{to_param(args)...}};
}

// The rows of one statement (text format). Movable, owns the PGresult.
class Result {
  public:
    explicit Result(pg_result* r) : r_(r) {}
    Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    Result& operator=(Result&& o) noexcept;
    ~Result();

    int rows() const;
    std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE
    bool is_null(int row, int col) const;
    std::string text(int row, int col) const;
    std::int64_t int64(int row, int col) const;
    std::optional<std::int64_t> opt_int64(int row, int col) const;
    pg_result* get() const { return r_; }
    pg_result* release() { return std::exchange(r_, nullptr); }

  private:
    pg_result* r_;
};

class Connection {
  public:
    // Connects (libpq URI or key=value conninfo). Throws PgFailure{Unavailable} when it cannot.
    static Connection open(const std::string& conninfo);
    Connection() = default;
    Connection(Connection&& o) noexcept;
    Connection& operator=(Connection&& o) noexcept;
    ~Connection();

    // A prepared statement (prepared on first use on this connection) with bound parameters.
    template <class... Args>
    Result exec(const std::string& sql, const Args&... args) {
        std::vector<Param> params{to_param(args)...};
        return exec_params(sql, params);
    }
    Result exec_params(const std::string& sql, const std::vector<Param>& params);

    // The statements sent together and answered in ONE round trip (libpq pipeline mode, one
    // sync at the end), their results in order. The first that fails throws as exec would;
    // the server skips the ones after it (inside BEGIN, the transaction is left failed).
    std::vector<Result> exec_pipeline(const std::vector<Statement>& statements);

    // A parameterless statement or script, sent as is (BEGIN, SAVEPOINT, migrations).
    void exec_script(const std::string& sql);

    bool healthy() const;         // connected and not known to be broken
    bool in_transaction() const;  // inside a transaction block (possibly failed)
    bool in_failed_transaction() const;
    // Reconnects a broken connection (forgets prepared statements). Throws PgFailure{Unavailable}.
    void reconnect();
    const std::string& conninfo() const { return conninfo_; }

    // What this connection has sent, for tests that hold a batch to its round trips: every exec,
    // pipeline, script and first-use prepare is one round trip; statements as sent (a pipeline's
    // each, a script as one).
    struct Sent {
        std::uint64_t round_trips = 0;
        std::uint64_t statements = 0;
    };
    Sent sent() const { return sent_; }

  private:
    [[noreturn]] void fail(pg_result* r, const std::string& what);
    [[noreturn]] void abandon(const std::string& what);
    void require_healthy() const;
    const std::string& prepared_name(const std::string& sql, std::size_t params);

    pg_conn* conn_ = nullptr;
    std::string conninfo_;
    std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
    Sent sent_;
};

// BEGIN ... COMMIT; rolls back in the destructor unless committed (if the connection is alive).
class Transaction {
  public:
    // `begin` null: the caller sends BEGIN itself (in a pipeline) and may end the transaction
    // there too; whatever is still open when this goes without commit() is rolled back.
    explicit Transaction(Connection& conn, const char* begin = "BEGIN");
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

  private:
    Connection& conn_;
    bool open_ = true;
};

}  // namespace ordinal::pg
