#pragma once
// librdkafka handles and configuration shared by the producer, the consumer and the mock cluster.
#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/kafka/kafka_bus.h"
#include "domain/expected.h"

namespace ordinal::kafka {

struct HandleDeleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const {
        rd_kafka_topic_partition_list_destroy(l);
    }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct HeadersDeleter {
    void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using MessageHeaders = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

using Properties = std::vector<std::pair<std::string, std::string>>;
using LogSink = std::function<void(int level, const std::string& line)>;

// What the handle's opaque points to: the log sink and the object that owns the handle (for
// callbacks). Must outlive the handle.
struct Context {
    LogSink log;
    void* owner = nullptr;
};

// Sets `defaults`, then bootstrap.servers, then the URL's own properties (which win), on a new
// configuration, and creates the handle. `setup` may add callbacks and an opaque first.
Expected<Handle, std::string> create_handle(
    rd_kafka_type_t type, const Properties& defaults, const KafkaAddress& address, Context* context,
    const std::function<void(rd_kafka_conf_t*)>& setup = {});

}  // namespace ordinal::kafka
