// sqlite_raw — the physical limit of the embedded write path (see bench/README.md).
//
// Runs the create-order transaction the service performs — idempotency lookup, product read,
// stock reservation, order row, outbox event, idempotency record — straight against SQLite in a
// loop, with the service's durability settings (WAL, synchronous=FULL, durable at COMMIT). No
// HTTP, no JSON parsing, no threads: whatever the service reaches is to be read against this.
// --batch K puts K orders in one transaction, to show what group commit would buy.
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_ids.h"
#include "latency_histogram.h"

namespace {

using Clock = std::chrono::steady_clock;
using ordinal::bench::IdGenerator;
using ordinal::bench::LatencyHistogram;

struct Options {
    std::string db = "sqlite_raw.db";
    double seconds = 10;
    double warmup_s = 1;
    int batch = 1;
    int products = 100;
    bool hot_product = false;
    std::string synchronous = "FULL";
    bool json = false;
};

// False when the program should end at once (--help, a bad flag), with `exit_code`.
bool parse_options(int argc, char** argv, Options& o, int& exit_code) {
    CLI::App app{
        "Raw SQLite baseline of Ordinal's create-order transaction (WAL, one durable commit per "
        "transaction)"};
    app.add_option("--db", o.db, "Database file; it and its -wal/-shm files are deleted first")
        ->capture_default_str();
    app.add_option("--seconds", o.seconds, "Measured seconds")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--warmup", o.warmup_s, "Unmeasured seconds first")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--batch", o.batch, "Orders per transaction")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--products", o.products, "Products to spread orders over")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_flag("--hot-product", o.hot_product, "Every order reserves the same product");
    app.add_option("--synchronous", o.synchronous, "PRAGMA synchronous (the service uses FULL)")
        ->check(CLI::IsMember({"OFF", "NORMAL", "FULL", "EXTRA"}))
        ->capture_default_str();
    app.add_flag("--json", o.json,
                 "Print one JSON result line on stdout (the human report then goes to stderr)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Thin RAII over the SQLite C API; every failure throws with SQLite's message.

class Database {
  public:
    explicit Database(const std::string& path) {
        const int rc = sqlite3_open_v2(
            path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
            nullptr);
        if (rc != SQLITE_OK) {
            const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            throw std::runtime_error("open " + path + ": " + msg);
        }
    }
    ~Database() { sqlite3_close_v2(db_); }
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    sqlite3* get() const { return db_; }

    void exec(const std::string& sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            const std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            throw std::runtime_error(sql + ": " + msg);
        }
    }

    // The single text value a PRAGMA answers (e.g. journal_mode), to check it took effect.
    std::string pragma(const std::string& sql);

    void check(int rc, const char* what) const {
        if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
            throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db_));
    }

  private:
    sqlite3* db_ = nullptr;
};

class Statement {
  public:
    Statement(Database& db, const char* sql) : db_(db) {
        db_.check(sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr),
                  sql);
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, const std::string& v) {
        db_.check(
            sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
            "bind text");
        return *this;
    }
    Statement& bind(int i, std::int64_t v) {
        db_.check(sqlite3_bind_int64(stmt_, i, v), "bind int");
        return *this;
    }

    // Steps once; true if a row is available. Reset must follow before the next use.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        db_.check(rc, sqlite3_sql(stmt_));
        return rc == SQLITE_ROW;
    }
    void run() {
        step();
        reset();
    }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::int64_t int_column(int i) const { return sqlite3_column_int64(stmt_, i); }
    std::string text_column(int i) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
                 : std::string{};
    }

  private:
    Database& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

std::string Database::pragma(const std::string& sql) {
    Statement s{*this, sql.c_str()};
    std::string value = s.step() ? s.text_column(0) : std::string{};
    s.reset();
    return value;
}

// ---------------------------------------------------------------------------------------------
// Schema and seed data (shaped like the service's embedded write store)

constexpr const char* kSchema = R"sql(
CREATE TABLE products (
  sku TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL, price_minor INTEGER NOT NULL,
  stock INTEGER, reserved INTEGER NOT NULL DEFAULT 0, stock_seq INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL);
CREATE TABLE orders (
  order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL,
  lines TEXT NOT NULL, total_minor INTEGER NOT NULL, version INTEGER NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE idempotency (
  key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, command_type TEXT NOT NULL,
  event_id TEXT NOT NULL, stream_type TEXT NOT NULL, stream_id TEXT NOT NULL,
  version INTEGER NOT NULL, token TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream_type TEXT NOT NULL,
  stream_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL,
  causation_id TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL,
  created_ms INTEGER NOT NULL, UNIQUE (stream_type, stream_id, version));
)sql";

constexpr std::int64_t kStock = 1'000'000'000;

void remove_database_files(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        std::filesystem::remove(path + suffix);
}

void configure(Database& db, const Options& o) {
    if (db.pragma("PRAGMA journal_mode=WAL") != "wal")
        throw std::runtime_error("could not switch to WAL");
    db.exec("PRAGMA synchronous=" + o.synchronous);
    db.exec("PRAGMA busy_timeout=5000");
}

std::string sku_name(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "bench-%05d", i);
    return buf;
}

void seed_products(Database& db, const Options& o) {
    db.exec("BEGIN");
    Statement insert{db,
                     "INSERT INTO products (sku, name, currency, price_minor, stock, reserved, "
                     "stock_seq, version) "
                     "VALUES (?1, ?2, 'EUR', ?3, ?4, 0, 0, 1)"};
    for (int i = 0; i < o.products; ++i)
        insert.bind(1, sku_name(i))
            .bind(2, "Bench product " + std::to_string(i))
            .bind(3, 1000 + i)
            .bind(4, kStock)
            .run();
    db.exec("COMMIT");
}

// ---------------------------------------------------------------------------------------------
// The create-order transaction body

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rfc3339_ms(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
    return std::string(date) + millis;
}

std::string random_hex(IdGenerator& ids, std::size_t chars) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(chars, '0');
    for (auto& c : out) c = kHex[ids.next() & 0xF];
    return out;
}

class OrderWriter {
  public:
    explicit OrderWriter(Database& db) : db_(db) {}

    // One PlaceOrder command with a single line of qty 1, as the loadgen sends it.
    void place(IdGenerator& ids, const std::string& sku) {
        const std::string key = ids.uuid_v4();
        const std::string order_id = ids.uuid_v4();
        const std::string user_id = ids.uuid_v4();
        const std::string event_id = ids.uuid_v7();
        const std::int64_t now_ms = unix_ms();
        const std::string now = rfc3339_ms(now_ms);

        if (find_idempotency_.bind(1, key).step())
            throw std::runtime_error("fresh key found in idempotency table");
        find_idempotency_.reset();

        if (!find_product_.bind(1, sku).step()) throw std::runtime_error("unknown sku " + sku);
        const std::int64_t price = find_product_.int_column(0);
        const std::int64_t stock = find_product_.int_column(1);
        find_product_.reset();
        if (stock < 1) throw std::runtime_error("out of stock: " + sku);

        reserve_.bind(1, sku).run();
        const std::string lines =
            R"([{"sku":")" + sku + R"(","qty":1,"unitPriceMinor":)" + std::to_string(price) + "}]";
        insert_order_.bind(1, order_id)
            .bind(2, user_id)
            .bind(3, lines)
            .bind(4, price)
            .bind(5, now)
            .run();
        const std::string data = event_data(order_id, user_id, sku, price, now);
        data_bytes_ += data.size();
        insert_event_.bind(1, event_id)
            .bind(2, order_id)
            .bind(3, now)
            .bind(4, key)
            .bind(5, data)
            .bind(6, now_ms)
            .run();
        insert_idempotency_.bind(1, key)
            .bind(2,
                  random_hex(ids, 64))  // the service stores a SHA-256 fingerprint of the payload
            .bind(3, event_id)
            .bind(4, order_id)
            .bind(5,
                  "ct1." + random_hex(ids, 60))  // about the size of a one-stream consistency token
            .bind(6, now_ms)
            .run();
        ++orders_;
    }

    std::uint64_t orders() const { return orders_; }
    std::uint64_t data_bytes() const { return data_bytes_; }

  private:
    // The OrderPlaced payload, about 300 bytes like the service's.
    static std::string event_data(const std::string& order_id, const std::string& user_id,
                                  const std::string& sku, std::int64_t price,
                                  const std::string& now) {
        const std::string p = std::to_string(price);
        return R"({"orderId":")" + order_id + R"(","userId":")" + user_id +
               R"(","currency":"EUR","items":[{"sku":")" + sku + R"(","qty":1,"unitPriceMinor":)" +
               p + R"(,"lineTotalMinor":)" + p + R"(}],"totalMinor":)" + p +
               R"(,"status":"PLACED","placedAt":")" + now + R"(","channel":"bench"})";
    }

    Database& db_;
    Statement find_idempotency_{
        db_,
        "SELECT fingerprint, command_type, event_id, stream_id, version, token "
        "FROM idempotency WHERE key = ?1"};
    Statement find_product_{db_,
                            "SELECT price_minor, stock, reserved, stock_seq, version, currency "
                            "FROM products WHERE sku = ?1"};
    Statement reserve_{
        db_,
        "UPDATE products SET stock = stock - 1, reserved = reserved + 1, stock_seq = stock_seq + 1 "
        "WHERE sku = ?1"};
    Statement insert_order_{
        db_,
        "INSERT INTO orders (order_id, user_id, status, currency, lines, total_minor, version, "
        "created_at, updated_at) VALUES (?1, ?2, 'PLACED', 'EUR', ?3, ?4, 1, ?5, ?5)"};
    Statement insert_event_{
        db_,
        "INSERT INTO events (event_id, stream_type, stream_id, version, type, occurred_at, "
        "causation_id, schema_version, data, created_ms) "
        "VALUES (?1, 'order', ?2, 1, 'OrderPlaced', ?3, ?4, 1, ?5, ?6)"};
    Statement insert_idempotency_{
        db_,
        "INSERT INTO idempotency (key, fingerprint, command_type, event_id, stream_type, "
        "stream_id, version, token, created_ms) "
        "VALUES (?1, ?2, 'PlaceOrder', ?3, 'order', ?4, 1, ?5, ?6)"};
    std::uint64_t orders_ = 0;
    std::uint64_t data_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The loop

struct Result {
    std::uint64_t transactions = 0;
    std::uint64_t orders = 0;
    double seconds = 0;
    double avg_event_bytes = 0;
    LatencyHistogram tx_latency;  // BEGIN IMMEDIATE .. COMMIT returned, µs
};

// One transaction of `batch` orders; durable when COMMIT returns (synchronous=FULL fsyncs the WAL).
void run_transaction(Database& db, OrderWriter& writer, IdGenerator& ids, const Options& o) {
    db.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < o.batch; ++i) {
        const int product =
            o.hot_product ? 0
                          : static_cast<int>(ids.next() % static_cast<std::uint64_t>(o.products));
        writer.place(ids, sku_name(product));
    }
    db.exec("COMMIT");
}

Result run(Database& db, const Options& o) {
    IdGenerator ids{ordinal::bench::fresh_seed()};
    OrderWriter writer{db};
    Result r;
    const auto start = Clock::now();
    const auto measure_start = start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(o.warmup_s));
    const auto end = measure_start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(o.seconds));
    std::uint64_t orders_before = 0;
    for (auto now = start; now < end;) {
        const auto begun = now;
        run_transaction(db, writer, ids, o);
        now = Clock::now();
        if (begun < measure_start) {
            orders_before = writer.orders();
            continue;
        }
        ++r.transactions;
        r.tx_latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - begun).count()));
        r.seconds = std::chrono::duration<double>(now - measure_start).count();
    }
    r.orders = writer.orders() - orders_before;
    r.avg_event_bytes = writer.orders() ? static_cast<double>(writer.data_bytes()) /
                                              static_cast<double>(writer.orders())
                                        : 0;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Reporting

void human_report(std::ostream& out, const Options& o, const Result& r) {
    const double secs = r.seconds > 0 ? r.seconds : 1;
    out << std::fixed << std::setprecision(1);
    out << "sqlite_raw   SQLite " << sqlite3_libversion() << ", WAL, synchronous=" << o.synchronous
        << ", batch " << o.batch << " order(s)/transaction, " << o.products << " products"
        << (o.hot_product ? " (hot)" : "") << ", db " << o.db << "\n";
    out << "measured     " << secs << " s: " << r.transactions << " transactions, " << r.orders
        << " orders (event data ~" << static_cast<int>(r.avg_event_bytes) << " bytes)\n";
    out << "throughput   " << static_cast<double>(r.transactions) / secs << " tx/s, "
        << static_cast<double>(r.orders) / secs << " orders/s\n";
    out << "tx latency   p50 " << r.tx_latency.percentile(0.5) << " µs  p99 "
        << r.tx_latency.percentile(0.99) << " µs  p99.9 " << r.tx_latency.percentile(0.999)
        << " µs  max " << r.tx_latency.max() << " µs\n";
}

std::string json_report(const Options& o, const Result& r) {
    const double secs = r.seconds > 0 ? r.seconds : 1;
    std::ostringstream out;
    out << std::fixed << std::setprecision(2);  // rates: never exponent notation
    out << R"({"tool":"sqlite_raw","sqlite_version":")" << sqlite3_libversion()
        << R"(","synchronous":")" << o.synchronous << R"(","batch":)" << o.batch
        << R"(,"products":)" << o.products << R"(,"hot_product":)"
        << (o.hot_product ? "true" : "false") << R"(,"seconds":)" << secs << R"(,"transactions":)"
        << r.transactions << R"(,"orders":)" << r.orders << R"(,"tx_per_s":)"
        << static_cast<double>(r.transactions) / secs << R"(,"orders_per_s":)"
        << static_cast<double>(r.orders) / secs << R"(,"event_data_bytes":)"
        << static_cast<int>(r.avg_event_bytes) << R"(,"tx_latency_us":{"p50":)"
        << r.tx_latency.percentile(0.5) << R"(,"p99":)" << r.tx_latency.percentile(0.99)
        << R"(,"p999":)" << r.tx_latency.percentile(0.999) << R"(,"max":)" << r.tx_latency.max()
        << R"(,"mean":)" << static_cast<std::uint64_t>(r.tx_latency.mean()) << "}}";
    return out.str();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    int exit_code = 0;
    try {
        if (!parse_options(argc, argv, o, exit_code)) return exit_code;
        remove_database_files(o.db);
        Database db{o.db};
        configure(db, o);
        db.exec(kSchema);
        seed_products(db, o);

        const Result r = run(db, o);
        human_report(o.json ? std::cerr : std::cout, o, r);
        if (o.json) std::cout << json_report(o, r) << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "sqlite_raw: " << e.what() << "\n";
        return 2;
    }
}
