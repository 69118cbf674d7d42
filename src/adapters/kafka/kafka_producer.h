#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "adapters/kafka/kafka_config.h"
#include "ports/bus.h"
#include "ports/metrics.h"
#include "ports/store_error.h"
#include "ports/write_store.h"

namespace ordinal::kafka {

// The next offset after the last message this producer saw written, per partition.
struct PublishedEnds {
    std::mutex mu;
    std::map<std::int32_t, std::int64_t> next;  // guarded by mu
};

// The relay's side of the bus: an idempotent producer (acks=all, ordered retries), message key =
// stream id, so a stream's events keep their order in one partition.
class Producer {
  public:
    static Expected<std::unique_ptr<Producer>, std::string> create(const KafkaAddress& address,
                                                                   Context* context,
                                                                   MetricsRegistry* metrics);
    ~Producer();

    // Returns once every message of `events` has a successful delivery report (written to all
    // in-sync replicas), or fails with the first delivery error. A failed batch may still be
    // partly in Kafka; the relay then publishes it again and consumers skip what they have.
    Expected<void, BusError> publish(std::span<const StoredEvent> events);
    // Produces every message of `events` and returns without waiting for the reports (see
    // Bus::publish_async); fails at once only if a message cannot be queued.
    Expected<std::unique_ptr<Publication>, BusError> publish_async(
        std::span<const StoredEvent> events, std::function<void()> settled);

    Expected<void, BusError> check_ready();
    // Each partition's end as far as this producer's delivery reports tell, by partition number.
    std::map<std::int32_t, std::int64_t> published_ends();

  private:
    Producer(KafkaAddress address, Context* context, MetricsRegistry* metrics);
    Expected<void, std::string> connect();
    void start_poller();
    void stop_poller();

    KafkaAddress address_;
    Context* context_;
    std::mutex mu_;  // one produce at a time: the handle is replaced after a fatal error
    Handle handle_;
    // Serves the handle's delivery reports; stopped before the handle is replaced or destroyed.
    std::thread poller_;
    std::atomic<bool> polling_{false};
    int delivery_timeout_ms_ = 10000;
    Counter* delivered_ = nullptr;
    Counter* failed_ = nullptr;
    Counter* recreated_ = nullptr;
    Histogram* publish_seconds_ = nullptr;
    std::shared_ptr<PublishedEnds> ends_ = std::make_shared<PublishedEnds>();
};

}  // namespace ordinal::kafka
