#include "adapters/kafka/kafka_topic_check.h"

#include <algorithm>
#include <thread>

#include "adapters/kafka/kafka_config.h"

namespace ordinal::kafka {

Expected<void, std::string> check_topic_exists(const KafkaAddress& address,
                                               std::chrono::milliseconds within) {
    // A handle of its own that may not create the topic by asking for it: a broker with
    // auto.create.topics.enable (Apache Kafka's default) would otherwise make it with its own
    // default partition count and replication.
    Context quiet;  // the URL's consumer-only properties would warn on a producer handle
    auto handle =
        create_handle(RD_KAFKA_PRODUCER, {{"allow.auto.create.topics", "false"}}, address, &quiet);
    if (!handle) return unexpected(handle.error());
    rd_kafka_topic_t* topic = rd_kafka_topic_new(handle->get(), address.topic.c_str(), nullptr);
    // Each broker answers from its own copy of the cluster's metadata, which learns of a new
    // topic a moment after the controller: a topic created just before the start (a deployment
    // script, a test's three-node cluster) may be unknown to the broker asked. Asked again
    // until it is known or kUnknownFor has passed, as Kafka's own clients retry this error.
    // Every question gets only what is left of `within`, so the whole check stays within it.
    using Clock = std::chrono::steady_clock;
    constexpr auto kUnknownFor = std::chrono::seconds(3);
    const auto start = Clock::now();
    const auto deadline = start + within;
    const auto give_up = start + std::min<std::chrono::milliseconds>(within, kUnknownFor);
    bool unknown = false;
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        const rd_kafka_metadata_t* md = nullptr;
        const auto err = rd_kafka_metadata(handle->get(), 0, topic, &md,
                                           static_cast<int>(std::max<long long>(1, left.count())));
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) break;  // no answer: the bus's own start decides
        unknown =
            md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rd_kafka_metadata_destroy(md);
        if (!unknown || Clock::now() >= give_up) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    rd_kafka_topic_destroy(topic);
    if (unknown)
        return unexpected("kafka topic '" + address.topic + "' does not exist on " +
                          address.brokers +
                          ": Ordinal never creates its topic; create it first (partitions, "
                          "replication factor 3, min.insync.replicas=2: see docs/profiles.md)");
    return {};
}

}  // namespace ordinal::kafka
