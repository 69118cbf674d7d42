#pragma once
// `ordinal dev-kafka`: a throwaway Kafka cluster for development and tests (librdkafka's mock
// cluster). Never for production: it keeps everything in memory.
#include "adapters/kafka/kafka_mock_cluster.h"

namespace ordinal {

using DevKafkaSettings = MockKafkaOptions;

// Prints "bootstrap HOST:PORT,..." on stdout, then serves fault-injection commands read from
// stdin (`help` lists them) until "quit"; if stdin ends first, runs until SIGINT/SIGTERM.
int run_dev_kafka(const DevKafkaSettings& settings);

}  // namespace ordinal
