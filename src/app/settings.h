#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/store_url.h"
#include "domain/expected.h"

namespace ordinal {

// Everything `ordinal serve` (and `verify`) can be told, after flags, environment and config file
// are merged (see cli/command_line.cpp for the precedence).
struct Settings {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "./data";
    std::string write_db;  // empty: sqlite://<data_dir>/write.db
    std::string read_db;   // empty: sqlite://<data_dir>/read.db
    std::string bus = "local";
    std::string cache = "memory";
    std::vector<std::string> roles = {"api", "relay", "projector"};
    std::string admin_token;

    int http_threads = 2;
    std::size_t max_connections = 10000;
    int request_timeout_ms = 10000;            // to send a request, and to take its answer
    int idle_timeout_ms = 60000;               // a kept-alive connection waiting for a request
    std::size_t writer_queue = 10000;          // commands waiting for the write store
    std::size_t writer_batch = 256;            // commands per write transaction
    std::size_t writer_connections = 1;        // PostgreSQL: concurrent write transactions
    std::int64_t max_outbox_pending = 200000;  // past this, commands get 503 overloaded
    // An outbox whose oldest unpublished event is older than this is stalled: /readyz says
    // degraded, ordinal_outbox_stalled is 1, and one warning is logged.
    int outbox_stall_ms = 30000;
    // A bus partition whose live projector's position has not moved for this long while messages
    // wait is stalled (as is one whose projector is stale): the status says so,
    // ordinal_projection_stalled is 1, the owner's /readyz says degraded, one warning is logged.
    int projection_stall_ms = 30000;
    std::size_t idempotency_cache_entries = 100000;
    int gate_poll_ms = 10;  // only when the projector runs in another process (SQLite read store)
    // PostgreSQL read store: the gate wakes on LISTEN (and on a projector in this process) and
    // polls only as a fallback, this often.
    int gate_fallback_poll_ms = 1000;
    // A relay looks for unpublished events this often when no commit wakes it (commits in this
    // process wake it directly; on PostgreSQL, commits elsewhere through NOTIFY).
    int relay_idle_poll_ms = 50;
    // A relay's rounds start at least this far apart while commits keep coming (RelayOptions).
    int relay_linger_ms = 5;
    // Every process heartbeats in the read store this often; one not heard from for
    // process_stale_ms is shown stale, and a projector takes over the admin request it ran.
    int heartbeat_ms = 1000;
    int process_stale_ms = 5000;
    // Batches a relay has out on the bus awaiting confirmation while it sends the next ones
    // (1: one batch at a time). Kafka's idempotent producer keeps them in order per partition.
    int relay_in_flight = 4;
    // PostgreSQL write store: relays split the outbox into this many partitions (every process on
    // one database must agree), and idempotency records are kept this long (0: forever).
    int outbox_partitions = 16;
    int idempotency_retention_hours = 24 * 7;
    int cache_ttl_s =
        24 * 3600;             // --cache redis://: how long a completed command's answer is cached
    int cache_timeout_ms = 5;  // --cache redis://: per command; past it the database answers
    bool durable = true;       // synchronous=FULL for SQLite
    // The process log (app/process_log.h): "text" or "json" (one object per line); and the
    // lowest level written ("debug", "info", "warn", "error"; the command and projection lines
    // with their trace ids are "info").
    std::string log_format = "text";
    std::string log_level = "info";

    // `ordinal verify` only (see verify/store_verifier.h for the rules they bound).
    bool verify_json = false;               // --json: the report as one JSON object
    int verify_max_pending_age_s = 60;      // outbox events pending longer are drift
    int verify_max_projection_lag_s = 60;   // missing read-model events younger are lag
    std::size_t verify_max_findings = 100;  // listed; all are counted
};

bool has_role(const Settings& s, const std::string& role);

// The roles and the bus and cache URLs, checked before anything is opened: an unknown role or
// none, a bus or cache this build does not have, `--bus local` with the relay and the projector
// in different processes.
struct CheckedSettings {
    bool api = false;
    bool relay = false;
    bool projector = false;
    StoreUrl bus;
    StoreUrl cache;
};
Expected<CheckedSettings, std::string> check_settings(const Settings& s);

// A store's URL as given, or sqlite://<data_dir>/<file> when none is.
std::string default_sqlite(const Settings& s, const char* file);
Expected<StoreUrl, std::string> store_url(const std::string& given, const Settings& s,
                                          const char* file);

// --listen HOST:PORT; [v6] brackets are dropped, and an empty host is 127.0.0.1.
Expected<std::pair<std::string, std::uint16_t>, std::string> parse_listen(
    const std::string& listen);

}  // namespace ordinal
