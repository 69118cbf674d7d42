#pragma once
#include <string>
#include <vector>

#include "app/dev_kafka.h"
#include "app/settings.h"
#include "domain/expected.h"

namespace ordinal {

struct Invocation {
    std::string subcommand;  // "serve", "migrate", "verify", "version", "dev-kafka"
    Settings settings;
    DevKafkaSettings dev_kafka;
    bool exit_now = false;  // --help was answered
    int exit_code = 0;
};

// Parses argv. Each setting comes from its flag, else its ORDINAL_* environment variable, else
// the --config file (lines of `key = value`, keys named like the flags), else its default.
Expected<Invocation, std::string> parse_command_line(int argc, char** argv);

}  // namespace ordinal
