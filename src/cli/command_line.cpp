#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace ordinal {
namespace {

// One setting: its flag name (also the config key), help, and how to store a string value.
// A switch takes no value on the command line (given means "1"); its environment variable and
// config key still take 0/1/true/false.
struct SettingSpec {
    std::string flag;
    std::string help;
    std::function<bool(Settings&, const std::string&)> assign;  // false if the value is invalid
    bool is_switch = false;
};

std::vector<std::string> split_csv(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

template <class Int>
std::function<bool(Settings&, const std::string&)> int_setting(Int Settings::*field, long long min,
                                                               long long max) {
    return [field, min, max](Settings& s, const std::string& v) {
        try {
            std::size_t used = 0;
            const long long n = std::stoll(v, &used);
            if (used != v.size() || n < min || n > max) return false;
            s.*field = static_cast<Int>(n);
            return true;
        } catch (...) {
            return false;
        }
    };
}

std::function<bool(Settings&, const std::string&)> bool_setting(bool Settings::*field) {
    return [field](Settings& s, const std::string& v) {
        if (v != "0" && v != "1" && v != "true" && v != "false") return false;
        s.*field = (v == "1" || v == "true");
        return true;
    };
}

std::function<bool(Settings&, const std::string&)> string_setting(std::string Settings::*field) {
    return [field](Settings& s, const std::string& v) {
        s.*field = v;
        return true;
    };
}

std::function<bool(Settings&, const std::string&)> choice_setting(
    std::string Settings::*field, std::vector<std::string> choices) {
    return [field, choices = std::move(choices)](Settings& s, const std::string& v) {
        for (const auto& c : choices) {
            if (v == c) {
                s.*field = v;
                return true;
            }
        }
        return false;
    };
}

std::vector<SettingSpec> setting_specs() {
    return {
        {"listen", "HOST:PORT to serve HTTP on (default 127.0.0.1:8080)",
         string_setting(&Settings::listen)},
        {"data-dir", "directory of the embedded stores (default ./data)",
         string_setting(&Settings::data_dir)},
        {"write-db", "write store URL (default sqlite://<data-dir>/write.db)",
         string_setting(&Settings::write_db)},
        {"read-db", "read store URL (default sqlite://<data-dir>/read.db)",
         string_setting(&Settings::read_db)},
        {"bus", "bus URL: local (default) or kafka://host:port/topic",
         string_setting(&Settings::bus)},
        {"cache", "idempotency cache: memory (default) or redis://host:port/db",
         string_setting(&Settings::cache)},
        {"roles", "comma-separated roles: api,relay,projector (default all)",
         [](Settings& s, const std::string& v) {
             s.roles = split_csv(v);
             return !s.roles.empty();
         }},
        {"admin-token", "bearer token required by admin endpoints (default: none)",
         string_setting(&Settings::admin_token)},
        {"http-threads", "HTTP I/O threads (default 2)",
         int_setting(&Settings::http_threads, 1, 256)},
        {"max-connections", "open HTTP connections at most (default 10000)",
         int_setting(&Settings::max_connections, 1, 1000000)},
        {"request-timeout-ms",
         "HTTP: a request must arrive within this many ms of its first byte, and its answer be "
         "taken as long (default 10000)",
         int_setting(&Settings::request_timeout_ms, 1, 3600000)},
        {"idle-timeout-ms",
         "HTTP: an idle keep-alive connection is closed after this many ms (default 60000)",
         int_setting(&Settings::idle_timeout_ms, 1, 3600000)},
        {"writer-queue", "commands waiting for the write store at most (default 10000)",
         int_setting(&Settings::writer_queue, 1, 10000000)},
        {"writer-batch", "commands per write transaction at most (default 256)",
         int_setting(&Settings::writer_batch, 1, 100000)},
        {"writer-connections",
         "PostgreSQL: writer threads, each with its connection and one transaction at a time "
         "(default 1)",
         int_setting(&Settings::writer_connections, 1, 64)},
        {"max-outbox-pending", "unpublished events past which commands are shed (default 200000)",
         int_setting(&Settings::max_outbox_pending, 1, 1000000000000LL)},
        {"outbox-stall-ms",
         "an outbox whose oldest unpublished event is older than this many ms is reported "
         "stalled: /readyz degraded, ordinal_outbox_stalled 1, one warning (default 30000)",
         int_setting(&Settings::outbox_stall_ms, 1, 86400000)},
        {"projection-stall-ms",
         "a bus partition whose projector's position has not moved for this many ms while "
         "messages wait (or whose projector is stale) is reported stalled: status, "
         "ordinal_projection_stalled 1, the owner's /readyz degraded, one warning (default 30000)",
         int_setting(&Settings::projection_stall_ms, 1, 86400000)},
        {"idempotency-cache-entries", "in-process idempotency cache size (default 100000)",
         int_setting(&Settings::idempotency_cache_entries, 0, 100000000)},
        {"outbox-partitions",
         "PostgreSQL: outbox partitions relays split by stream; the same for every process "
         "(default 16)",
         int_setting(&Settings::outbox_partitions, 1, 4096)},
        {"idempotency-retention-hours",
         "hours an idempotency record is kept (SQLite and PostgreSQL); a repeat after that is a "
         "new command; 0 keeps them forever (default 168)",
         int_setting(&Settings::idempotency_retention_hours, 0, 24 * 365 * 100)},
        {"cache-ttl-s", "Redis cache: seconds a completed command's answer is kept (default 86400)",
         int_setting(&Settings::cache_ttl_s, 1, 365 * 24 * 3600)},
        {"cache-timeout-ms",
         "Redis cache: per-command timeout in ms; past it the database answers (default 5)",
         int_setting(&Settings::cache_timeout_ms, 1, 10000)},
        {"relay-idle-poll-ms",
         "a relay with nothing to publish looks again after this many ms, unless a commit wakes it "
         "first (default 50)",
         int_setting(&Settings::relay_idle_poll_ms, 1, 600000)},
        {"heartbeat-ms", "every process records itself in the read store this often (default 1000)",
         int_setting(&Settings::heartbeat_ms, 10, 600000)},
        {"process-stale-ms",
         "a process not heard from for this many ms is shown stale, and an admin request it was "
         "running is taken over by another projector (default 5000)",
         int_setting(&Settings::process_stale_ms, 20, 86400000)},
        {"relay-linger-ms",
         "a relay's rounds start at least this many ms apart when commits come in faster, so a "
         "busy outbox goes out in fewer, larger batches; a commit that finds the relay idle longer "
         "is relayed at once (default 5; 0: every commit at once)",
         int_setting(&Settings::relay_linger_ms, 0, 1000)},
        {"relay-in-flight",
         "batches a relay sends ahead while earlier ones await the bus's confirmation; they are "
         "still marked published in order (default 4; 1: one batch at a time)",
         int_setting(&Settings::relay_in_flight, 1, 64)},
        {"gate-fallback-poll-ms",
         "PostgreSQL read store: the consistency gate wakes on LISTEN (and on a projector in this "
         "process) and polls this often as a fallback (default 1000)",
         int_setting(&Settings::gate_fallback_poll_ms, 1, 600000)},
        {"log-format",
         "process log: text (default) or json, one object per line with timestamp, level, "
         "message, and trace_id and order_id where known",
         choice_setting(&Settings::log_format, {"text", "json"})},
        {"log-level",
         "lowest level logged: debug, info (default: one line per command and per projected "
         "event), warn or error",
         choice_setting(&Settings::log_level, {"debug", "info", "warn", "error"})},
        {"durable",
         "1: fsync every commit (default); 0: faster, may lose the last commits on power loss",
         bool_setting(&Settings::durable)},
    };
}

// The settings of `ordinal verify` beside the store flags.
std::vector<SettingSpec> verify_specs() {
    return {
        {"json", "print the report as one JSON object", bool_setting(&Settings::verify_json), true},
        {"max-pending-age-s", "outbox events pending longer than this are drift (default 60)",
         int_setting(&Settings::verify_max_pending_age_s, 0, 365 * 24 * 3600)},
        {"max-projection-lag-s",
         "events missing from the read model that were committed less than this before its "
         "snapshot are lag, not drift (default 60)",
         int_setting(&Settings::verify_max_projection_lag_s, 0, 365 * 24 * 3600)},
        {"max-findings", "findings listed at most; all are counted (default 100)",
         int_setting(&Settings::verify_max_findings, 0, 100000000)},
    };
}

std::string env_name(const std::string& flag) {
    std::string out = "ORDINAL_";
    for (char c : flag)
        out.push_back(c == '-' ? '_'
                               : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

Expected<std::map<std::string, std::string>, std::string> read_config_file(
    const std::string& path) {
    std::ifstream in(path);
    if (!in) return unexpected("cannot read config file " + path);
    std::map<std::string, std::string> out;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == '[') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos)
            return unexpected(path + ":" + std::to_string(lineno) + ": expected key = value");
        std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        for (auto& c : key) c = c == '_' ? '-' : c;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        out[key] = value;
    }
    return out;
}

}  // namespace

Expected<Invocation, std::string> parse_command_line(int argc, char** argv) {
    CLI::App app{"Ordinal: order/checkout processing on bounded CQRS with a transactional outbox",
                 "ordinal"};
    app.require_subcommand(1);
    auto specs = setting_specs();
    const auto verify_only = verify_specs();
    std::map<std::string, std::string> given;  // flag -> value from the command line

    std::string config_path;
    auto add_flags = [&](CLI::App* sub, const std::vector<SettingSpec>& list) {
        for (const auto& spec : list) {
            if (spec.is_switch) {
                sub->add_flag("--" + spec.flag, spec.help);
            } else {
                sub->add_option("--" + spec.flag, given[spec.flag], spec.help);
            }
        }
    };
    auto add_store_flags = [&](CLI::App* sub) {
        add_flags(sub, specs);
        sub->add_option("--config", config_path,
                        "config file of key = value lines (env ORDINAL_CONFIG)");
    };
    CLI::App* serve = app.add_subcommand("serve", "run the service (roles api, relay, projector)");
    add_store_flags(serve);
    CLI::App* migrate =
        app.add_subcommand("migrate", "apply schema migrations to the stores and exit");
    add_store_flags(migrate);
    CLI::App* verify = app.add_subcommand("verify",
                                          "check the stores against docs/design.md's invariants; "
                                          "exit 0 clean, 1 drift, 2 cannot run");
    add_store_flags(verify);
    add_flags(verify, verify_only);
    app.add_subcommand("version", "print the version");
    CLI::App* dev_kafka = app.add_subcommand(
        "dev-kafka",
        "run a throwaway in-memory Kafka cluster (librdkafka's mock) for development and tests");
    Invocation inv;
    dev_kafka->add_option("--brokers", inv.dev_kafka.brokers, "number of brokers")
        ->check(CLI::Range(1, 16));
    dev_kafka->add_option("--topic", inv.dev_kafka.topic, "topic to create");
    dev_kafka->add_option("--partitions", inv.dev_kafka.partitions, "its partitions")
        ->check(CLI::Range(1, 1000));
    dev_kafka
        ->add_option("--replication-factor", inv.dev_kafka.replication_factor,
                     "its replication factor")
        ->check(CLI::Range(1, 16));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::ostringstream out, err;
        // Usage errors exit 2 (like `verify` when it cannot run), whatever code CLI11 picks.
        inv.exit_code = app.exit(e, out, err) == 0 ? 0 : 2;
        inv.exit_now = true;
        std::fputs(out.str().c_str(), stdout);
        std::fputs(err.str().c_str(), stderr);
        return inv;
    }
    CLI::App* chosen = app.get_subcommands().front();
    inv.subcommand = chosen->get_name();
    if (inv.subcommand == "version" || inv.subcommand == "dev-kafka") return inv;

    if (config_path.empty()) {
        if (const char* env = std::getenv("ORDINAL_CONFIG")) config_path = env;
    }
    std::map<std::string, std::string> config;
    if (!config_path.empty()) {
        auto read = read_config_file(config_path);
        if (!read) return unexpected(read.error());
        config = std::move(*read);
        // One file may serve every subcommand: verify's keys are known to serve too.
        for (const auto& [key, _] : config) {
            auto named = [&](const SettingSpec& s) { return s.flag == key; };
            const bool known = std::any_of(specs.begin(), specs.end(), named) ||
                               std::any_of(verify_only.begin(), verify_only.end(), named);
            if (!known) return unexpected("unknown setting '" + key + "' in " + config_path);
        }
    }
    if (chosen == verify) specs.insert(specs.end(), verify_only.begin(), verify_only.end());
    for (const auto& spec : specs) {
        std::string value;
        std::string source;
        if (chosen->get_option("--" + spec.flag)->count() > 0) {
            value = spec.is_switch ? "1" : given[spec.flag];
            source = "--" + spec.flag;
        } else if (const char* env = std::getenv(env_name(spec.flag).c_str())) {
            value = env;
            source = env_name(spec.flag);
        } else if (auto it = config.find(spec.flag); it != config.end()) {
            value = it->second;
            source = config_path + ": " + spec.flag;
        } else {
            continue;
        }
        if (!spec.assign(inv.settings, value))
            return unexpected("invalid value '" + value + "' for " + source);
    }
    return inv;
}

}  // namespace ordinal
