#include "adapters/kafka/kafka_topic_check.h"

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
    const rd_kafka_metadata_t* md = nullptr;
    const auto err =
        rd_kafka_metadata(handle->get(), 0, topic, &md, static_cast<int>(within.count()));
    rd_kafka_topic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    const bool unknown =
        md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_metadata_destroy(md);
    if (unknown)
        return unexpected("kafka topic '" + address.topic + "' does not exist on " +
                          address.brokers +
                          ": Ordinal never creates its topic; create it first (partitions, "
                          "replication factor 3, min.insync.replicas=2: see docs/profiles.md)");
    return {};
}

}  // namespace ordinal::kafka
