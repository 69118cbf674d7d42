#include "app/open_adapters.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "adapters/memory/local_bus.h"
#include "adapters/memory/lru_idempotency_cache.h"
#include "adapters/postgres/postgres_stores.h"
#include "adapters/sqlite/sqlite_stores.h"
#include "app/service.h"
#include "core/command_executor.h"
#include "core/projection_sequencer.h"

namespace ordinal {
namespace {

Expected<void, std::string> ensure_parent_dir(const std::string& path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return unexpected("cannot create directory " + parent.string() + ": " + ec.message());
    return {};
}

}  // namespace

Expected<std::unique_ptr<WriteStore>, std::string> open_write_store(const Settings& s,
                                                                    const Clock& clock,
                                                                    IdGenerator& ids) {
    auto url = store_url(s.write_db, s, "write.db");
    if (!url) return unexpected(url.error());
    if (url->scheme == "postgresql") {
        PostgresWriteStoreOptions opts;
        opts.conninfo = url->target;
        opts.max_queue = s.writer_queue;
        opts.max_batch = s.writer_batch;
        opts.connections = s.writer_connections;
        opts.outbox_partitions = s.outbox_partitions;
        opts.idempotency_retention = std::chrono::hours(s.idempotency_retention_hours);
        auto store = make_postgres_write_store(opts, clock, command_rules(clock, ids));
        if (!store) return unexpected("cannot open the write store: " + store.error().message);
        return std::move(*store);
    }
    if (url->scheme != "sqlite")
        return unexpected("write store '" + url->scheme + "' is not supported yet");
    if (auto ok = ensure_parent_dir(url->target); !ok) return unexpected(ok.error());
    SqliteWriteStoreOptions opts;
    opts.path = url->target;
    opts.max_queue = s.writer_queue;
    opts.max_batch = s.writer_batch;
    opts.durable = s.durable;
    opts.idempotency_retention = std::chrono::hours(s.idempotency_retention_hours);
    auto store = make_sqlite_write_store(opts, clock, command_rules(clock, ids));
    if (!store) return unexpected("cannot open the write store: " + store.error().message);
    return std::move(*store);
}

Expected<std::unique_ptr<ReadStore>, std::string> open_read_store(const Settings& s,
                                                                  const Clock& clock) {
    auto url = store_url(s.read_db, s, "read.db");
    if (!url) return unexpected(url.error());
    if (url->scheme == "postgresql") {
        PostgresReadStoreOptions opts;
        opts.conninfo = url->target;
        auto store = make_postgres_read_store(opts, clock, projection_rules());
        if (!store) return unexpected("cannot open the read store: " + store.error().message);
        return std::move(*store);
    }
    if (url->scheme != "sqlite")
        return unexpected("read store '" + url->scheme + "' is not supported yet");
    if (auto ok = ensure_parent_dir(url->target); !ok) return unexpected(ok.error());
    SqliteReadStoreOptions opts;
    opts.path = url->target;
    auto store = make_sqlite_read_store(opts, clock, projection_rules());
    if (!store) return unexpected("cannot open the read store: " + store.error().message);
    return std::move(*store);
}

Expected<OpenedCache, std::string> open_cache(const Settings& s, const StoreUrl& url,
                                              MetricsRegistry& metrics) {
    OpenedCache out;
    if (url.scheme == "redis") {
        RedisCacheOptions opts;
        opts.url = url.target;
        opts.ttl = std::chrono::seconds(s.cache_ttl_s);
        opts.timeout = std::chrono::milliseconds(s.cache_timeout_ms);
        opts.metrics = &metrics;
        auto redis = make_redis_idempotency_cache(std::move(opts));
        if (!redis) return unexpected(redis.error());
        out.redis = redis->get();
        out.cache = std::move(*redis);
    } else {
        out.cache = make_lru_idempotency_cache(s.idempotency_cache_entries);
    }
    return out;
}

Expected<OpenedBus, std::string> open_bus(const Settings& s, const CheckedSettings& checked,
                                          MetricsRegistry& metrics) {
    OpenedBus out;
    if (checked.bus.scheme == "kafka") {
        KafkaBusOptions opts;
        opts.url = s.bus;
        opts.produce = checked.relay;
        opts.consume = checked.projector;
        opts.metrics = &metrics;
        opts.log = [](int level, const std::string& line) {
            if (level <= 3) {
                spdlog::error("kafka {}", line);
            } else if (level == 4) {
                spdlog::warn("kafka {}", line);
            } else if (level <= 6) {
                spdlog::info("kafka {}", line);
            } else {
                spdlog::debug("kafka {}", line);
            }
        };
        auto kafka = make_kafka_bus(std::move(opts));
        if (!kafka) return unexpected(kafka.error());
        out.kafka = kafka->get();
        out.bus = std::move(*kafka);
    } else {
        out.bus = make_local_bus();
    }
    return out;
}

Expected<void, std::string> migrate_stores(const Settings& s) {
    auto w = store_url(s.write_db, s, "write.db");
    if (!w) return unexpected(w.error());
    auto r = store_url(s.read_db, s, "read.db");
    if (!r) return unexpected(r.error());
    for (const auto* u : {&*w, &*r}) {
        if (u->scheme == "postgresql") continue;
        if (u->scheme != "sqlite")
            return unexpected("store '" + u->scheme + "' is not supported yet");
        if (auto ok = ensure_parent_dir(u->target); !ok) return unexpected(ok.error());
    }
    const auto write_ok = w->scheme == "postgresql" ? migrate_postgres_write_store(w->target)
                                                    : migrate_sqlite_write_store(w->target);
    if (!write_ok) return unexpected("write store: " + write_ok.error().message);
    const auto read_ok = r->scheme == "postgresql" ? migrate_postgres_read_store(r->target)
                                                   : migrate_sqlite_read_store(r->target);
    if (!read_ok) return unexpected("read store: " + read_ok.error().message);
    return {};
}

}  // namespace ordinal
