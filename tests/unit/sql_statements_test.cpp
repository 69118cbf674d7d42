// Every SQL statement in the store adapters takes its values as bound parameters: the text given
// to a query/exec call (and to libpq and SQLite directly) is built only from string literals and
// named constants that are themselves built that way. A value spliced into SQL text would be an
// injection; this test reads the sources and fails on any such call. The few places that pass SQL
// along by name (the wrappers themselves, the migration scripts) are listed below with the reason
// they are safe, and an entry that no longer matches anything fails too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace ordinal {
namespace {

namespace fs = std::filesystem;

struct Allowed {
    std::string file;        // path under src/adapters
    std::string expression;  // the SQL argument, whitespace collapsed
    std::string why;
    mutable int uses = 0;
};

const std::vector<Allowed>& allowed() {
    static const std::vector<Allowed> list = {
        {"sqlite/sqlite_connection.cpp", "sql", "exec_script() hands its constant SQL to SQLite"},
        {"sqlite/sqlite_connection.cpp", "sql.data()", "Connection::prepare() of query()'s SQL"},
        {"postgres/pg_connection.cpp", "sql.c_str()",
         "exec_params() prepares, exec_script() sends, the SQL their callers gave"},
        {"postgres/pg_connection.cpp", "begin",
         "Transaction's BEGIN statement, a string literal at every call site"},
        {"postgres/pg_read_store.cpp", "nullptr",
         "a Transaction whose caller sends BEGIN itself (in a pipeline): no SQL at all"},
        {"sqlite/sqlite_migrations.cpp", "m.sql", "a migration script, a constant of this file"},
        {"postgres/pg_migrations.cpp", "m.sql", "a migration script, a constant of this file"},
        {"postgres/pg_migrations.cpp", "std::string(\"SELECT version, name FROM \") + set.table",
         "set.table names the migrations table of a MigrationSet constant of this file"},
        {"postgres/pg_migrations.cpp",
         "std::string(\"CREATE TABLE IF NOT EXISTS \") + set.table + \" (version bigint PRIMARY "
         "KEY, name text NOT NULL, applied_at timestamptz NOT \" \"NULL DEFAULT now())\"",
         "as above"},
        {"postgres/pg_migrations.cpp",
         "std::string(\"INSERT INTO \") + set.table + \" (version, name) VALUES ($1, $2)\"",
         "as above"},
        {"sqlite/sqlite_audit.cpp", "sql",
         "cursor() runs the audit queries of this file, constant text without client data"},
        {"postgres/pg_audit.cpp", "fetch_",
         "FETCH from a cursor name this file made up (a counter)"},
        {"postgres/pg_audit.cpp", "\"DECLARE \" + name + \" NO SCROLL CURSOR FOR \" + sql",
         "a counter-named cursor over an audit query, constant text of this file"},
        {"postgres/pg_outbox_lease.cpp",
         "\"SET idle_session_timeout = \" + ms + \"; SET idle_in_transaction_session_timeout = \" "
         "+ "
         "ms",
         "ms is std::to_string of the lease's own chrono timeout (an integer); SET takes no "
         "parameters"},
    };
    return list;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The end of the string or character literal that starts at `i` (a quote, or the R of a raw
// string): the index just past it.
std::size_t skip_literal(const std::string& s, std::size_t i) {
    if (s[i] == 'R') {  // R"delim( ... )delim"
        const auto open = s.find('(', i);
        const std::string close = ")" + s.substr(i + 2, open - i - 2) + "\"";
        return s.find(close, open) + close.size();
    }
    const char quote = s[i];
    for (++i; i < s.size() && s[i] != quote; ++i) {
        if (s[i] == '\\') ++i;
    }
    return i + 1;
}

bool starts_literal(const std::string& s, std::size_t i) {
    if (s[i] == '"' || s[i] == '\'') return true;
    return s[i] == 'R' && i + 1 < s.size() && s[i + 1] == '"' &&
           (i == 0 || !(std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_'));
}

// The source with comments blanked out, literals kept.
std::string without_comments(const std::string& s) {
    std::string out = s;
    for (std::size_t i = 0; i < s.size();) {
        if (starts_literal(s, i)) {
            i = skip_literal(s, i);
        } else if (s.compare(i, 2, "//") == 0) {
            const auto end = std::min(s.find('\n', i), s.size());
            std::fill(out.begin() + static_cast<long>(i), out.begin() + static_cast<long>(end),
                      ' ');
            i = end;
        } else if (s.compare(i, 2, "/*") == 0) {
            const auto end = s.find("*/", i) + 2;
            std::fill(out.begin() + static_cast<long>(i), out.begin() + static_cast<long>(end),
                      ' ');
            i = end;
        } else {
            ++i;
        }
    }
    return out;
}

// The top-level pieces of `s[begin, end)` split at `sep`, skipping literals and brackets.
std::vector<std::string> split_top_level(const std::string& s, std::size_t begin, std::size_t end,
                                         char sep) {
    std::vector<std::string> out;
    int depth = 0;
    std::size_t start = begin;
    for (std::size_t i = begin; i < end;) {
        if (starts_literal(s, i)) {
            i = skip_literal(s, i);
            continue;
        }
        const char c = s[i];
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') --depth;
        const bool scope =
            c == ':' && ((i + 1 < end && s[i + 1] == ':') || (i > begin && s[i - 1] == ':'));
        if (depth == 0 && c == sep && !scope) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
        ++i;
    }
    out.push_back(s.substr(start, end - start));
    return out;
}

// The index of the bracket that closes the one at `open`.
std::size_t closing(const std::string& s, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < s.size();) {
        if (starts_literal(s, i)) {
            i = skip_literal(s, i);
            continue;
        }
        if (s[i] == '(') ++depth;
        if (s[i] == ')' && --depth == 0) return i;
        ++i;
    }
    return std::string::npos;
}

std::string collapse_whitespace(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (starts_literal(s, i)) {
            const auto end = skip_literal(s, i);
            out += s.substr(i, end - i);
            i = end;
        } else if (std::isspace(static_cast<unsigned char>(s[i]))) {
            if (!out.empty() && out.back() != ' ') out += ' ';
            ++i;
        } else {
            out += s[i++];
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    while (!out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

class SourceFile {
  public:
    explicit SourceFile(fs::path path)
        : path_(std::move(path)), code_(without_comments(read_file(path_))) {}

    const std::string& code() const { return code_; }

    // Whether `expression` builds SQL text from literals and constant SQL only. A conditional's
    // condition may be anything: only its branches become SQL.
    bool constant_sql(const std::string& expression, int depth = 0) const {
        if (depth > 8) return false;
        const auto branches = split_top_level(expression, 0, expression.size(), '?');
        if (branches.size() > 1) {
            for (const auto& b : split_top_level(branches[1], 0, branches[1].size(), ':')) {
                if (!constant_sql(b, depth + 1)) return false;
            }
            return true;
        }
        static const std::regex token(
            R"(\s*(std::string_view|std::string|[A-Za-z_]\w*|\+|\(|\)|.))");
        for (std::size_t i = 0; i < expression.size();) {
            if (std::isspace(static_cast<unsigned char>(expression[i]))) {
                ++i;
                continue;
            }
            if (starts_literal(expression, i)) {
                i = skip_literal(expression, i);
                continue;
            }
            std::smatch m;
            const std::string rest = expression.substr(i);
            if (!std::regex_search(rest, m, token, std::regex_constants::match_continuous))
                return false;
            const std::string t = m[1];
            i += static_cast<std::size_t>(m.length(0));
            if (t == "(") {  // a parenthesized piece, e.g. a conditional: judged on its own
                const auto open = i - 1;
                const auto close = closing(expression, open);
                if (close == std::string::npos ||
                    !constant_sql(expression.substr(open + 1, close - open - 1), depth + 1)) {
                    return false;
                }
                i = close + 1;
                continue;
            }
            if (t == "+" || t == "std::string" || t == "std::string_view") continue;
            if (!std::regex_match(t, std::regex("k[A-Z]\\w*"))) return false;
            const auto init = constant_initializer(t);
            if (!init || !constant_sql(*init, depth + 1)) return false;
        }
        return true;
    }

  private:
    // The initializer of `const ... name = <init>;` in this file, if there is such a definition.
    std::optional<std::string> constant_initializer(const std::string& name) const {
        const std::regex def("\\b" + name + "\\s*=");
        for (std::sregex_iterator it(code_.begin(), code_.end(), def), end; it != end; ++it) {
            const auto at = static_cast<std::size_t>(it->position(0));
            const auto stmt = code_.find_last_of(";{}", at);
            const std::string declaration = code_.substr(stmt + 1, at - stmt - 1);
            if (!std::regex_search(declaration, std::regex("\\bconst(expr)?\\b"))) continue;
            const auto value_begin = at + static_cast<std::size_t>(it->length(0));
            const auto pieces = split_top_level(code_, value_begin, code_.size(), ';');
            return pieces.front();
        }
        return std::nullopt;
    }

    fs::path path_;
    std::string code_;
};

struct Call {
    std::string where;  // file:line
    std::string file;   // under src/adapters
    std::string sql;    // the SQL argument, whitespace collapsed
    bool constant = false;
};

std::vector<Call> sql_calls() {
    // A member call on a connection, libpq or SQLite itself, and PostgreSQL's Transaction (its
    // BEGIN statement): where the SQL argument is, and in which folder ("" for both).
    struct Pattern {
        std::regex call;
        std::size_t sql_arg;
        std::string folder;
    };
    static const std::vector<Pattern> patterns = {
        {std::regex(R"((\.|->)\s*(query|exec|exec_script|exec_params)\s*\()"), 0, ""},
        {std::regex(
             R"(\b(PQexec|PQexecParams|PQsendQuery|PQsendQueryParams|sqlite3_exec|sqlite3_prepare\w*)\s*\()"),
         1, ""},
        {std::regex(R"(\b(PQprepare|PQsendPrepare)\s*\()"), 2, ""},
        {std::regex(R"(\bTransaction\s+\w+\s*\()"), 1, "postgres"},
    };
    const fs::path root = fs::path(ORDINAL_SOURCE_DIR) / "src" / "adapters";
    std::vector<Call> out;
    for (const char* folder : {"sqlite", "postgres"}) {
        for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
            const auto ext = entry.path().extension();
            if (ext != ".cpp" && ext != ".h") continue;
            const SourceFile file(entry.path());
            const std::string& code = file.code();
            const std::string rel = fs::relative(entry.path(), root).generic_string();
            for (const auto& [pattern, arg, only_in] : patterns) {
                if (!only_in.empty() && only_in != folder) continue;
                for (std::sregex_iterator it(code.begin(), code.end(), pattern), end; it != end;
                     ++it) {
                    const auto open = static_cast<std::size_t>(it->position(0) + it->length(0) - 1);
                    const auto close = closing(code, open);
                    const auto args = split_top_level(code, open + 1, close, ',');
                    if (arg >= args.size()) continue;  // e.g. a declaration without parameters
                    Call c;
                    c.file = rel;
                    c.where =
                        rel + ":" +
                        std::to_string(
                            std::count(code.begin(), code.begin() + static_cast<long>(open), '\n') +
                            1);
                    c.sql = collapse_whitespace(args[arg]);
                    c.constant = file.constant_sql(c.sql);
                    out.push_back(std::move(c));
                }
            }
        }
    }
    return out;
}

TEST(SqlStatements, NoValueIsSplicedIntoSqlText) {
    const auto calls = sql_calls();
    // The scan must see the adapters' statements, or it proves nothing.
    ASSERT_GT(calls.size(), 80u);
    std::size_t constant = 0;
    for (const auto& call : calls) {
        if (call.constant) {
            ++constant;
            continue;
        }
        const auto* ok = [&]() -> const Allowed* {
            for (const auto& a : allowed()) {
                if (a.file == call.file && a.expression == call.sql) return &a;
            }
            return nullptr;
        }();
        if (ok) {
            ++ok->uses;
        } else {
            ADD_FAILURE() << call.where
                          << ": SQL text built from something other than literals and "
                          << "constant SQL (bind the value as a parameter instead): " << call.sql;
        }
    }
    for (const auto& a : allowed()) {
        EXPECT_GT(a.uses, 0) << "stale allow-list entry for " << a.file << ": " << a.expression;
    }
    EXPECT_GT(constant, calls.size() * 3 / 4);
}

// The scanner itself: what it accepts and what it must refuse.
TEST(SqlStatements, TheScannerTellsConstantSqlFromSplicedValues) {
    const fs::path file_path = fs::temp_directory_path() /
                               ("ordinal-sql-scan-test-" + std::to_string(::getpid()) + ".cpp");
    {
        std::ofstream out(file_path);
        out << "constexpr const char* kCols = \"a, b \";\nconst std::string kSel = "
               "std::string(\"SELECT \") + kCols;\n"
               "std::string kNotConst = \"x\";\n";
    }
    const SourceFile f(file_path);
    EXPECT_TRUE(f.constant_sql("\"SELECT 1\""));
    EXPECT_TRUE(f.constant_sql("R\"sql(SELECT ';' )sql\""));
    EXPECT_TRUE(f.constant_sql("kSel + \"FROM t WHERE id = ?\""));
    EXPECT_TRUE(f.constant_sql("std::string(kCols) + \"FROM t\""));
    EXPECT_TRUE(f.constant_sql("mode == Mode::Immediate ? \"BEGIN IMMEDIATE\" : \"BEGIN\""));
    EXPECT_TRUE(
        f.constant_sql("std::string(\"SELECT a FROM t\") + (lock ? \" FOR UPDATE\" : \"\")"));
    EXPECT_FALSE(
        f.constant_sql("std::string(\"SELECT a FROM t\") + (lock ? \" FOR UPDATE\" : name)"));
    EXPECT_FALSE(f.constant_sql("std::string(name) + \" FROM t\""));
    EXPECT_FALSE(f.constant_sql("\"SELECT * FROM t WHERE id = '\" + id + \"'\""));
    EXPECT_FALSE(f.constant_sql("\"SELECT \" + std::to_string(n)"));
    EXPECT_FALSE(f.constant_sql("sql"));
    EXPECT_FALSE(f.constant_sql("kNotConst + \"FROM t\""));
    EXPECT_FALSE(f.constant_sql("kUndefined"));
    EXPECT_FALSE(f.constant_sql("flag ? \"a\" : name"));
    fs::remove(file_path);
}

}  // namespace
}  // namespace ordinal
