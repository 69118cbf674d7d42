#pragma once
// A librdkafka configuration from bootstrap servers and `k=v` properties, as the bench tools take
// them on their command lines (bench/run_relay.sh and bench/run_lag.sh pass Ordinal's own).
#include <librdkafka/rdkafka.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace ordinal::bench {

inline rd_kafka_conf_t* kafka_conf(const std::string& brokers,
                                   const std::vector<std::string>& properties) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    const auto set = [&](const std::string& k, const std::string& v) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(k + ": " + err);
        }
    };
    set("bootstrap.servers", brokers);
    for (const std::string& p : properties) {
        const auto eq = p.find('=');
        if (eq == std::string::npos) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("property '" + p + "' is not k=v");
        }
        set(p.substr(0, eq), p.substr(eq + 1));
    }
    return conf;
}

}  // namespace ordinal::bench
