#pragma once
// The Kafka bus (librdkafka, used only inside this folder). The relay side is an idempotent
// producer that reports a batch as published only when every message of it has a successful
// delivery report; the projector side is a consumer-group member that keeps its offsets in the
// read store (in the projection's own transaction), never in Kafka.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/expected.h"
#include "ports/bus.h"
#include "ports/metrics.h"

namespace ordinal {

// kafka://host:port[,host:port]/topic[?property=value&...]: the properties are librdkafka's
// (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md) and override
// Ordinal's defaults, e.g. ?group.id=orders-projector&security.protocol=SASL_SSL.
struct KafkaAddress {
    std::string brokers;  // "host:port,host:port"
    std::string topic;
    std::vector<std::pair<std::string, std::string>> properties;
};

Expected<KafkaAddress, std::string> parse_kafka_url(const std::string& url);

struct KafkaBusOptions {
    std::string url;
    bool produce = false;  // this process runs a relay
    bool consume = false;  // this process runs a projector: subscribe() joins the consumer group
    std::size_t max_batch = 500;  // messages handed to the projector at once
    MetricsRegistry* metrics = nullptr;
    // librdkafka's log lines (level as syslog: 3 error, 4 warning, 6 info, 7 debug).
    std::function<void(int level, const std::string& line)> log;
};

struct HeldPartition {
    std::int64_t applied = 0;
    std::optional<std::int64_t> end;
};

class KafkaBus : public Bus {
  public:
    // Partitions this process's consumer holds now, as "topic/partition" (empty without one).
    virtual std::vector<std::string> assigned_partitions() = 0;
    // True when this process's consumer holds its group assignment, sought to the read store's
    // positions (a projector is not ready before); true without a consumer.
    virtual bool holds_assignment() = 0;
    // Each partition this process's consumer holds, by name: the next offset it will apply (it
    // goes on from there after a rebuild emptied the stored positions) and the partition's end
    // (high watermark) as the last fetch response gave it, none before the first.
    virtual std::map<std::string, HeldPartition> held_partitions() = 0;
    // Each partition's end as this process's producer's delivery reports tell it, by name (the
    // relay's view: known also while no projector fetches); empty without a producer.
    virtual std::map<std::string, std::int64_t> published_ends() = 0;
};

// Connects lazily: a broker that is down at start makes publish() fail (and be retried) rather
// than the process exit. Fails on a bad URL or property, and when a broker answers within 5 s
// that the topic does not exist (a relay or projector process then exits naming it).
Expected<std::unique_ptr<KafkaBus>, std::string> make_kafka_bus(KafkaBusOptions options);

// The name under which the read store keeps a partition's position: "topic/partition".
std::string kafka_partition_name(const std::string& topic, std::int32_t partition);

}  // namespace ordinal
