#pragma once
// The adapters the settings name, opened for the composition root (service.cpp): the write and
// read stores (SQLite or PostgreSQL), the idempotency cache (in memory or Redis) and the bus
// (in process or Kafka). `ordinal migrate` (service.h) is here too: it opens the same stores.
#include <memory>
#include <string>

#include "adapters/kafka/kafka_bus.h"
#include "adapters/redis/redis_idempotency_cache.h"
#include "app/settings.h"
#include "domain/expected.h"
#include "ports/bus.h"
#include "ports/clock.h"
#include "ports/idempotency_cache.h"
#include "ports/metrics.h"
#include "ports/read_store.h"
#include "ports/write_store.h"

namespace ordinal {

Expected<std::unique_ptr<WriteStore>, std::string> open_write_store(const Settings& s,
                                                                    const Clock& clock,
                                                                    IdGenerator& ids);
Expected<std::unique_ptr<ReadStore>, std::string> open_read_store(const Settings& s,
                                                                  const Clock& clock);

struct OpenedCache {
    std::unique_ptr<IdempotencyCache> cache;
    RedisIdempotencyCache* redis = nullptr;  // cache, when it is the Redis one
};
Expected<OpenedCache, std::string> open_cache(const Settings& s, const StoreUrl& url,
                                              MetricsRegistry& metrics);

struct OpenedBus {
    std::unique_ptr<Bus> bus;
    KafkaBus* kafka = nullptr;  // bus, when it is Kafka
};
// A Kafka bus produces in a relay and consumes in a projector.
Expected<OpenedBus, std::string> open_bus(const Settings& s, const CheckedSettings& checked,
                                          MetricsRegistry& metrics);

}  // namespace ordinal
