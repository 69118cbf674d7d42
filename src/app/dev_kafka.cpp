#include "app/dev_kafka.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

namespace ordinal {

int run_dev_kafka(const DevKafkaSettings& settings) {
    MockKafkaOptions options = settings;
    options.log = [](int level, const std::string& line) {
        if (level <= 4) spdlog::warn("kafka {}", line);
    };
    // When stdin ends (run in the background) the cluster keeps serving; SIGINT/SIGTERM end it
    // with their default action, which is all an in-memory cluster needs.
    return run_mock_kafka_cluster(options, std::cin, std::cout, [] {
        while (true) ::pause();
    });
}

}  // namespace ordinal
