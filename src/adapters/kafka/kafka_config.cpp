#include "adapters/kafka/kafka_config.h"

#include <cctype>

namespace ordinal {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Property values may carry credentials with reserved characters, percent-encoded.
Expected<std::string, std::string> percent_decode(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
            return unexpected("bad percent-encoding in '" + s + "'");
        }
        out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
        i += 2;
    }
    return out;
}

}  // namespace

std::string kafka_partition_name(const std::string& topic, std::int32_t partition) {
    return topic + "/" + std::to_string(partition);
}

Expected<KafkaAddress, std::string> parse_kafka_url(const std::string& url) {
    const std::string scheme = "kafka://";
    const std::string usage =
        "expected kafka://host:port[,host:port]/topic[?property=value&...], got '" + url + "'";
    if (url.rfind(scheme, 0) != 0) return unexpected(usage);
    std::string rest = url.substr(scheme.size());
    std::string query;
    if (const auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest.resize(q);
    }
    const auto slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size())
        return unexpected(usage);
    KafkaAddress a;
    a.brokers = rest.substr(0, slash);
    a.topic = rest.substr(slash + 1);
    for (char c : a.topic) {
        // Kafka's own rule for topic names.
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
            return unexpected("kafka topic '" + a.topic +
                              "' may hold only letters, digits, '.', '_' and '-'");
        }
    }
    std::size_t start = 0;
    while (start < query.size()) {
        auto end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        const std::string pair = query.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return unexpected("kafka URL property '" + pair + "' is not name=value");
        auto value = percent_decode(pair.substr(eq + 1));
        if (!value) return unexpected(value.error());
        a.properties.emplace_back(pair.substr(0, eq), std::move(*value));
    }
    return a;
}

namespace kafka {
namespace {

void forward_log(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    const auto* context = static_cast<const Context*>(rd_kafka_opaque(rk));
    if (context && context->log) context->log(level, std::string(facility) + ": " + line);
}

}  // namespace

Expected<Handle, std::string> create_handle(rd_kafka_type_t type, const Properties& defaults,
                                            const KafkaAddress& address, Context* context,
                                            const std::function<void(rd_kafka_conf_t*)>& setup) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    auto set = [&](const std::string& k, const std::string& v) -> Expected<void, std::string> {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            return unexpected("kafka property " + k + ": " + err);
        }
        return {};
    };
    Properties all = defaults;
    if (!address.brokers.empty()) all.emplace_back("bootstrap.servers", address.brokers);
    all.insert(all.end(), address.properties.begin(), address.properties.end());
    for (const auto& [k, v] : all) {
        if (auto ok = set(k, v); !ok) {
            rd_kafka_conf_destroy(conf);
            return unexpected(ok.error());
        }
    }
    rd_kafka_conf_set_opaque(conf, context);
    rd_kafka_conf_set_log_cb(conf, forward_log);
    if (setup) setup(conf);
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // owns conf on success
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return unexpected(std::string("kafka: ") + err);
    }
    return Handle(rk);
}

}  // namespace kafka
}  // namespace ordinal
