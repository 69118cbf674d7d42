#pragma once
// A Kafka cluster for development and tests: librdkafka's mock cluster (real Kafka wire protocol
// over TCP, in this process, nothing on disk), with its fault injection driven by text commands.
// Behind `ordinal dev-kafka`; never used by `ordinal serve`.
#include <functional>
#include <iosfwd>
#include <string>

namespace ordinal {

struct MockKafkaOptions {
    int brokers = 3;
    std::string topic = "ordinal-events";
    int partitions = 6;
    int replication_factor = 3;
    std::function<void(int level, const std::string& line)> log;
};

// Starts the cluster, writes "bootstrap HOST:PORT,..." as the first line of `out`, then reads one
// command per line from `control` and answers each with "ok" or "error <why>", until "quit" or the
// end of `control`, where `at_end_of_control` runs (with the cluster still up) if given. `help`
// lists the commands. Returns the process exit code.
int run_mock_kafka_cluster(const MockKafkaOptions& options, std::istream& control,
                           std::ostream& out, const std::function<void()>& at_end_of_control = {});

}  // namespace ordinal
