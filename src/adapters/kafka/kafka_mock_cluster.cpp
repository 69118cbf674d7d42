#include "adapters/kafka/kafka_mock_cluster.h"

// clang-format off
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // must follow rdkafka.h
// clang-format on

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <istream>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include "adapters/kafka/kafka_config.h"
#include "ports/thread_name.h"

namespace ordinal {
namespace {

const char* kHelp =
    "commands (one per line; answers ok or error <why>):\n"
    "  broker-down ID | broker-up ID          take a broker off the network and back\n"
    "  leader PARTITION BROKER                move a partition's leadership\n"
    "  coordinator GROUP BROKER               move a consumer group's coordinator\n"
    "  errors API COUNT ERROR                 the next COUNT requests of API fail with ERROR\n"
    "                                         (API: produce fetch list-offsets metadata "
    "offset-commit\n"
    "                                          offset-fetch find-coordinator join-group heartbeat\n"
    "                                          leave-group sync-group init-producer-id;\n"
    "                                          ERROR: a Kafka error name, e.g. "
    "NOT_LEADER_FOR_PARTITION)\n"
    "  request-error BROKER API ERROR MS      the next request of API to BROKER fails with ERROR,\n"
    "                                         answered MS later\n"
    "  await-request BROKER API               wait (up to 30 s) until that request has arrived\n"
    "  rtt BROKER MS                          delay a broker's responses\n"
    "  produce KEY HEADERS VALUE...           write a raw message (HEADERS: - or name=value,...)\n"
    "  quit";

// Kafka protocol API keys (https://kafka.apache.org/protocol#protocol_api_keys).
const std::map<std::string, std::int16_t> kApiKeys = {
    {"produce", 0},       {"fetch", 1},        {"list-offsets", 2},      {"metadata", 3},
    {"offset-commit", 8}, {"offset-fetch", 9}, {"find-coordinator", 10}, {"join-group", 11},
    {"heartbeat", 12},    {"leave-group", 13}, {"sync-group", 14},       {"init-producer-id", 22},
};

bool parse_error_name(const std::string& name, rd_kafka_resp_err_t* out) {
    const rd_kafka_err_desc* descs = nullptr;
    std::size_t count = 0;
    rd_kafka_get_err_descs(&descs, &count);
    for (std::size_t i = 0; i < count; ++i) {
        if (descs[i].name && name == descs[i].name) {
            *out = descs[i].code;
            return true;
        }
    }
    try {
        *out = static_cast<rd_kafka_resp_err_t>(std::stoi(name));
        return true;
    } catch (...) {
        return false;
    }
}

// The mock broker never sets TCP_NODELAY on its connections, which a real broker does
// (socket.nagle.disable on its side). Without it, a produce response waits behind the client's
// delayed ACK under load (25-50 ms per relay batch), which no real cluster would show. So this
// process sets it on every TCP socket it holds, as they appear.
class NoDelaySweeper {
  public:
    NoDelaySweeper()
        : thread_([this] {
              name_this_thread("nodelay-sweep");
              while (!stop_.load()) {
                  sweep();
                  std::this_thread::sleep_for(std::chrono::milliseconds(5));
              }
          }) {}
    ~NoDelaySweeper() {
        stop_ = true;
        thread_.join();
    }

  private:
    static void sweep() {
        DIR* dir = ::opendir("/proc/self/fd");
        if (!dir) return;
        while (const dirent* entry = ::readdir(dir)) {
            const int fd = std::atoi(entry->d_name);
            if (fd <= 2) continue;
            int on = 1;
            // Not a TCP socket (a file, a pipe, the directory itself): the call fails, harmlessly.
            (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        }
        ::closedir(dir);
    }

    std::atomic<bool> stop_{false};
    std::thread thread_;
};

class MockCluster {
  public:
    explicit MockCluster(const MockKafkaOptions& options) : options_(options) {
        context_.log = options.log;
    }

    ~MockCluster() {
        producer_.reset();
        if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    }

    Expected<std::string, std::string> start() {
        KafkaAddress none;
        none.brokers = "";
        auto host = kafka::create_handle(RD_KAFKA_PRODUCER, {}, none, &context_);
        if (!host) return unexpected(host.error());
        host_ = std::move(*host);
        cluster_ = rd_kafka_mock_cluster_new(host_.get(), options_.brokers);
        if (!cluster_) return unexpected(std::string("cannot create the mock cluster"));
        bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
        if (auto err = rd_kafka_mock_topic_create(cluster_, options_.topic.c_str(),
                                                  options_.partitions, options_.replication_factor);
            err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return unexpected(std::string("topic: ") + rd_kafka_err2str(err));
        }
        return bootstraps_;
    }

    // One control line: "" on success, else why not.
    std::string run(const std::string& line) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        auto check = [](rd_kafka_resp_err_t err) {
            return err == RD_KAFKA_RESP_ERR_NO_ERROR ? std::string()
                                                     : std::string(rd_kafka_err2str(err));
        };
        if (cmd == "broker-down" || cmd == "broker-up") {
            std::int32_t id = 0;
            if (!(in >> id)) return "usage: " + cmd + " ID";
            return check(cmd == "broker-down" ? rd_kafka_mock_broker_set_down(cluster_, id)
                                              : rd_kafka_mock_broker_set_up(cluster_, id));
        }
        if (cmd == "leader") {
            std::int32_t partition = 0, broker = 0;
            if (!(in >> partition >> broker)) return "usage: leader PARTITION BROKER";
            return check(rd_kafka_mock_partition_set_leader(cluster_, options_.topic.c_str(),
                                                            partition, broker));
        }
        if (cmd == "coordinator") {
            std::string group;
            std::int32_t broker = 0;
            if (!(in >> group >> broker)) return "usage: coordinator GROUP BROKER";
            return check(rd_kafka_mock_coordinator_set(cluster_, "group", group.c_str(), broker));
        }
        if (cmd == "errors") {
            std::string api, name;
            std::size_t count = 0;
            if (!(in >> api >> count >> name)) return "usage: errors API COUNT ERROR";
            const auto key = kApiKeys.find(api);
            if (key == kApiKeys.end()) return "unknown API " + api;
            rd_kafka_resp_err_t err;
            if (!parse_error_name(name, &err)) return "unknown error " + name;
            std::vector<rd_kafka_resp_err_t> errors(count, err);
            rd_kafka_mock_push_request_errors_array(cluster_, key->second, count, errors.data());
            return {};
        }
        if (cmd == "request-error") {
            std::int32_t broker = 0;
            std::string api, name;
            int ms = 0;
            if (!(in >> broker >> api >> name >> ms))
                return "usage: request-error BROKER API ERROR MS";
            const auto key = kApiKeys.find(api);
            if (key == kApiKeys.end()) return "unknown API " + api;
            rd_kafka_resp_err_t err;
            if (!parse_error_name(name, &err)) return "unknown error " + name;
            return check(rd_kafka_mock_broker_push_request_error_rtts(cluster_, broker, key->second,
                                                                      1, err, ms));
        }
        if (cmd == "await-request") {
            // Lets a test act while a request is known to be at the broker (its answer delayed
            // by request-error), without guessing with sleeps.
            std::int32_t broker = 0;
            std::string api;
            if (!(in >> broker >> api)) return "usage: await-request BROKER API";
            const auto key = kApiKeys.find(api);
            if (key == kApiKeys.end()) return "unknown API " + api;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (true) {
                std::size_t left = 0;
                if (auto err =
                        rd_kafka_mock_broker_error_stack_cnt(cluster_, broker, key->second, &left);
                    err != RD_KAFKA_RESP_ERR_NO_ERROR)
                    return check(err);
                if (left == 0) return {};
                if (std::chrono::steady_clock::now() >= deadline)
                    return "no " + api + " request reached broker " + std::to_string(broker);
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
        if (cmd == "rtt") {
            std::int32_t broker = 0;
            int ms = 0;
            if (!(in >> broker >> ms)) return "usage: rtt BROKER MS";
            return check(rd_kafka_mock_broker_set_rtt(cluster_, broker, ms));
        }
        if (cmd == "produce") return produce(in);
        if (cmd == "help") return kHelp;
        return "unknown command '" + cmd + "' (try help)";
    }

  private:
    std::string produce(std::istringstream& in) {
        std::string key, headers;
        if (!(in >> key >> headers)) return "usage: produce KEY HEADERS VALUE...";
        std::string value;
        std::getline(in >> std::ws, value);
        if (!producer_) {
            KafkaAddress address;
            address.brokers = bootstraps_;
            auto p = kafka::create_handle(RD_KAFKA_PRODUCER, {{"partitioner", "murmur2_random"}},
                                          address, &context_);
            if (!p) return p.error();
            producer_ = std::move(*p);
        }
        rd_kafka_headers_t* hdrs = rd_kafka_headers_new(4);
        if (headers != "-") {
            std::istringstream hs(headers);
            std::string pair;
            while (std::getline(hs, pair, ',')) {
                const auto eq = pair.find('=');
                if (eq == std::string::npos) continue;
                const std::string v = pair.substr(eq + 1);
                rd_kafka_header_add(hdrs, pair.substr(0, eq).c_str(), -1, v.data(),
                                    static_cast<ssize_t>(v.size()));
            }
        }
        auto err = rd_kafka_producev(
            producer_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
            RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(hdrs);
            return rd_kafka_err2str(err);
        }
        if (rd_kafka_flush(producer_.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return "not delivered in 10 s";
        return {};
    }

    MockKafkaOptions options_;
    NoDelaySweeper no_delay_;
    kafka::Context context_;
    kafka::Handle host_;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
    kafka::Handle producer_;
    std::string bootstraps_;
};

}  // namespace

int run_mock_kafka_cluster(const MockKafkaOptions& options, std::istream& control,
                           std::ostream& out, const std::function<void()>& at_end_of_control) {
    MockCluster cluster(options);
    auto bootstraps = cluster.start();
    if (!bootstraps) {
        out << "error " << bootstraps.error() << std::endl;
        return 1;
    }
    out << "bootstrap " << *bootstraps << std::endl;
    std::string line;
    while (true) {
        if (!std::getline(control, line)) {
            if (at_end_of_control) at_end_of_control();
            break;
        }
        if (line.empty()) continue;
        if (line == "quit") break;
        const std::string why = cluster.run(line);
        if (why.empty()) {
            out << "ok" << std::endl;
        } else if (line == "help") {
            out << why << "\nok" << std::endl;
        } else {
            out << "error " << why << std::endl;
        }
    }
    return 0;
}

}  // namespace ordinal
