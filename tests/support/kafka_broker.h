#pragma once
// Apache Kafka for tests (tests/scripts/kafka_test_server.sh, a KRaft broker from the jars of
// tools/kafka-broker). The CTest fixture `kafka` starts one broker for the whole tier and writes
// its address to ORDINAL_KAFKA_BOOTSTRAP_FILE; each test makes a topic of its own on it (unique
// name, the partitions it asks for, its own consumer group), so tests share the JVM and nothing
// else. A test that stops its broker starts a PrivateKafka instead. Test code may use librdkafka
// directly: it creates and deletes topics and writes raw messages, which Ordinal never does.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/scratch_dir.h"

namespace ordinal::test {

// The address of the fixture's broker. Throws (the test fails, it never skips) without it.
inline std::string kafka_fixture_bootstrap() {
#ifdef ORDINAL_KAFKA_BOOTSTRAP_FILE
    std::ifstream in(ORDINAL_KAFKA_BOOTSTRAP_FILE);
    std::string bootstrap;
    if (in && std::getline(in, bootstrap) && !bootstrap.empty()) return bootstrap;
    throw std::runtime_error(std::string("no Kafka test broker: ") + ORDINAL_KAFKA_BOOTSTRAP_FILE +
                             " is missing (run through ctest: the kafka_server_start fixture "
                             "writes it)");
#else
    throw std::runtime_error("this test binary was built without the Kafka fixture");
#endif
}

// A librdkafka producer handle used as an admin client and a raw producer.
class KafkaAdminClient {
  public:
    explicit KafkaAdminClient(const std::string& bootstrap) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char err[512];
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("kafka admin: ") + err);
        }
        rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!rk_) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("kafka admin: ") + err);
        }
    }
    ~KafkaAdminClient() {
        rd_kafka_flush(rk_, 5000);
        rd_kafka_destroy(rk_);
    }
    KafkaAdminClient(const KafkaAdminClient&) = delete;
    KafkaAdminClient& operator=(const KafkaAdminClient&) = delete;

    // Creates the topic and returns once every partition has a leader the brokers know of.
    void create_topic(const std::string& topic, int partitions, int replication) {
        char err[512];
        rd_kafka_NewTopic_t* nt =
            rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, err, sizeof err);
        if (!nt) throw std::runtime_error(std::string("kafka topic: ") + err);
        const std::string failure =
            run_admin(RD_KAFKA_EVENT_CREATETOPICS_RESULT,
                      [&](auto* q, auto* o) { rd_kafka_CreateTopics(rk_, &nt, 1, o, q); });
        rd_kafka_NewTopic_destroy(nt);
        if (!failure.empty())
            throw std::runtime_error("cannot create topic " + topic + ": " + failure);
        wait_leaders(topic, partitions);
    }

    // Best effort: a leftover topic only costs the broker a little disk until the fixture ends.
    void delete_topic(const std::string& topic) {
        rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
        (void)run_admin(RD_KAFKA_EVENT_DELETETOPICS_RESULT,
                        [&](auto* q, auto* o) { rd_kafka_DeleteTopics(rk_, &dt, 1, o, q); });
        rd_kafka_DeleteTopic_destroy(dt);
    }

    // Writes one raw message (what no relay would write: poison, foreign events) and waits for
    // its acknowledgement.
    void produce(const std::string& topic, const std::string& key,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& value) {
        rd_kafka_headers_t* hs = rd_kafka_headers_new(headers.size());
        for (const auto& [k, v] : headers)
            rd_kafka_header_add(hs, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                                static_cast<ssize_t>(v.size()));
        const auto err = rd_kafka_producev(
            rk_, RD_KAFKA_V_TOPIC(topic.c_str()),
            RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(hs);
            throw std::runtime_error(std::string("kafka produce: ") + rd_kafka_err2str(err));
        }
        if (rd_kafka_flush(rk_, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            throw std::runtime_error("kafka produce: not acknowledged in 10 s");
    }

    // The node that leads the partition now (-1 if none or unknown).
    int leader(const std::string& topic, int partition) {
        rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        int id = -1;
        if (rd_kafka_metadata(rk_, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; ++i) {
                if (md->topics[0].partitions[i].id == partition)
                    id = md->topics[0].partitions[i].leader;
            }
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(t);
        return id;
    }

  private:
    // Runs one admin request and returns the first error it reports ("" on success).
    template <typename Request>
    std::string run_admin(rd_kafka_event_type_t expected, Request request) {
        rd_kafka_queue_t* q = rd_kafka_queue_new(rk_);
        rd_kafka_AdminOptions_t* o = rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_ANY);
        char err[512];
        rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof err);
        rd_kafka_AdminOptions_set_operation_timeout(o, 30000, err, sizeof err);
        request(q, o);
        rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 35000);
        std::string failure;
        if (!ev) {
            failure = "no answer in 35 s";
        } else if (rd_kafka_event_type(ev) != expected || rd_kafka_event_error(ev)) {
            failure = rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev) : "failed";
        } else {
            const rd_kafka_topic_result_t** results = nullptr;
            std::size_t n = 0;
            if (expected == RD_KAFKA_EVENT_CREATETOPICS_RESULT)
                results =
                    rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
            else
                results =
                    rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
            for (std::size_t i = 0; i < n && failure.empty(); ++i) {
                if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
                    failure = rd_kafka_topic_result_error_string(results[i]);
            }
        }
        if (ev) rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
        return failure;
    }

    void wait_leaders(const std::string& topic, int partitions) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
        bool ready = false;
        while (!ready && std::chrono::steady_clock::now() < deadline) {
            const rd_kafka_metadata_t* md = nullptr;
            if (rd_kafka_metadata(rk_, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                        md->topics[0].partition_cnt == partitions;
                for (int i = 0; ready && i < md->topics[0].partition_cnt; ++i)
                    ready = md->topics[0].partitions[i].leader >= 0;
                rd_kafka_metadata_destroy(md);
            }
            if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        rd_kafka_topic_destroy(t);
        if (!ready) throw std::runtime_error("topic " + topic + " has no leaders after 30 s");
    }

    rd_kafka_t* rk_ = nullptr;
};

inline std::string random_kafka_name(const std::string& prefix) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = prefix;
    for (int i = 0; i < 12; ++i) out += kHex[rng() % 16];
    return out;
}

// Short timeouts for a topic's --bus URL, through the product's own settings, so that failover
// takes seconds: a projector that stops heartbeating loses its partitions after 4 s, a delivery
// that cannot complete fails after 3 s and is published again. (The test brokers allow sessions
// this short: group.min.session.timeout.ms.)
inline const std::string kFastKafkaTimeouts =
    "session.timeout.ms=4000&heartbeat.interval.ms=500&message.timeout.ms=3000";

// One message as a test reads it back from a topic, headers included.
struct KafkaRecord {
    int partition = 0;
    std::int64_t offset = 0;
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;

    std::optional<std::string> header(const std::string& name) const {
        for (const auto& [k, v] : headers) {
            if (k == name) return v;
        }
        return std::nullopt;
    }
};

// Reads every partition of a topic from its start, outside any consumer group (it commits
// nothing and moves no projector's partitions): what the relay wrote, as any consumer sees it.
class KafkaTopicReader {
  public:
    KafkaTopicReader(const std::string& bootstrap, const std::string& topic, int partitions) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        char err[512];
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) !=
                RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "group.id", (topic + "-test-reader").c_str(), err,
                              sizeof err) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) !=
                RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("kafka reader: ") + err);
        }
        rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        if (!rk_) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(std::string("kafka reader: ") + err);
        }
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; ++p)
            rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        const auto assigned = rd_kafka_assign(rk_, list);  // no group membership: assign()
        rd_kafka_topic_partition_list_destroy(list);
        if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_destroy(rk_);
            throw std::runtime_error(std::string("kafka reader: ") + rd_kafka_err2str(assigned));
        }
    }
    ~KafkaTopicReader() {
        rd_kafka_consumer_close(rk_);
        rd_kafka_destroy(rk_);
    }
    KafkaTopicReader(const KafkaTopicReader&) = delete;
    KafkaTopicReader& operator=(const KafkaTopicReader&) = delete;

    // Reads until `wanted` says a message is the one looked for (returned), or `within` passed
    // (nullopt).
    template <typename Wanted>
    std::optional<KafkaRecord> find(Wanted wanted, std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
            if (!m) continue;
            std::optional<KafkaRecord> record;
            if (!m->err) {
                record.emplace();
                record->partition = m->partition;
                record->offset = m->offset;
                if (m->key) record->key.assign(static_cast<const char*>(m->key), m->key_len);
                if (m->payload) record->value.assign(static_cast<const char*>(m->payload), m->len);
                rd_kafka_headers_t* hs = nullptr;
                if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    const char* name = nullptr;
                    const void* value = nullptr;
                    std::size_t size = 0;
                    for (std::size_t i = 0; !rd_kafka_header_get_all(hs, i, &name, &value, &size);
                         ++i)
                        record->headers.emplace_back(
                            name, value ? std::string(static_cast<const char*>(value), size)
                                        : std::string());
                }
            }
            rd_kafka_message_destroy(m);
            if (record && wanted(*record)) return record;
        }
        return std::nullopt;
    }

  private:
    rd_kafka_t* rk_ = nullptr;
};

// A topic of one test's own on a real broker, deleted afterwards. Its --bus URL names a consumer
// group of its own too: tests that share a broker must not share a group, or each one's
// rebalances would stall the others.
class KafkaTopic {
  public:
    explicit KafkaTopic(int partitions = 6, std::string bootstrap = kafka_fixture_bootstrap(),
                        int replication = 1)
        : bootstrap_(std::move(bootstrap)),
          topic_(random_kafka_name("ordinal-t-")),
          admin_(std::make_unique<KafkaAdminClient>(bootstrap_)) {
        admin_->create_topic(topic_, partitions, replication);
    }
    ~KafkaTopic() {
        try {
            admin_->delete_topic(topic_);
        } catch (...) {
        }
    }
    KafkaTopic(const KafkaTopic&) = delete;
    KafkaTopic& operator=(const KafkaTopic&) = delete;

    const std::string& bootstrap() const { return bootstrap_; }
    const std::string& topic() const { return topic_; }
    std::string group() const { return topic_ + "-projector"; }
    // The --bus URL, with extra librdkafka properties (e.g. "message.timeout.ms=2000").
    std::string url(const std::string& properties = {}) const {
        return "kafka://" + bootstrap_ + "/" + topic_ + "?group.id=" + group() +
               (properties.empty() ? "" : "&" + properties);
    }
    void produce(const std::string& key,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& value) {
        admin_->produce(topic_, key, headers, value);
    }
    int leader(int partition) { return admin_->leader(topic_, partition); }

  private:
    std::string bootstrap_;
    std::string topic_;
    std::unique_ptr<KafkaAdminClient> admin_;
};

#ifdef ORDINAL_KAFKA_SCRIPT
// A broker (or a cluster of `brokers` nodes) of one test's own, for tests that take it away: the
// fixture's broker serves every other test of the tier. Costs a JVM start, a few seconds.
class PrivateKafka {
  public:
    // `netns` and `host` put the nodes on a test host of the partition tests (netns_hosts.sh),
    // listening on and advertising `host`.
    explicit PrivateKafka(int brokers = 1, const std::string& netns = {},
                          const std::string& host = {})
        : dir_("ordinal-kafka"),
          brokers_(brokers),
          // OWNER_PID: the script's watchdog stops the cluster should this process end without
          // ~PrivateKafka.
          place_("OWNER_PID=" + std::to_string(::getpid()) + " " +
                 (netns.empty() ? std::string()
                                : "TEST_NETNS='" + netns + "' TEST_HOST='" + host + "' ")) {
        run("start", "--brokers " + std::to_string(brokers));
        std::ifstream in(dir_.path() + "/srv/bootstrap");
        std::getline(in, bootstrap_);
    }
    ~PrivateKafka() {
        (void)std::system(
            (place_ + "bash " ORDINAL_KAFKA_SCRIPT " stop " + dir_.path() + "/srv").c_str());
    }
    PrivateKafka(const PrivateKafka&) = delete;
    PrivateKafka& operator=(const PrivateKafka&) = delete;

    const std::string& bootstrap() const { return bootstrap_; }
    void kill(int node = 1) { run("kill", "", node); }
    // Returns once the node answers metadata again.
    void up(int node = 1) { run("up", "", node); }
    // SIGSTOP / SIGCONT: the node keeps its connections open and answers nothing meanwhile.
    void freeze(int node = 1) { run("freeze", "", node); }
    void thaw(int node = 1) { run("thaw", "", node); }
    int brokers() const { return brokers_; }

    // The end of each node's server log, for a failing test's output.
    std::string logs() const {
        std::string out;
        for (int node = 1; node <= brokers_; ++node) {
            const std::string path =
                dir_.path() + "/srv/node-" + std::to_string(node) + "/server.log";
            std::ifstream in(path);
            const std::string text{std::istreambuf_iterator<char>(in), {}};
            out += "---- kafka node " + std::to_string(node) + " (end of " + path + ") ----\n" +
                   text.substr(text.size() > 6000 ? text.size() - 6000 : 0) + "\n";
        }
        return out;
    }

  private:
    void run(const char* cmd, const std::string& options, int node = 0) {
        std::string c =
            place_ + "bash " ORDINAL_KAFKA_SCRIPT " " + cmd + " " + dir_.path() + "/srv";
        if (node > 0) c += " " + std::to_string(node);
        c += " " + options + " >/dev/null";
        if (std::system(c.c_str()) != 0)
            throw std::runtime_error(std::string("kafka_test_server.sh ") + cmd + " failed");
    }
    ScratchDir dir_;
    int brokers_;
    std::string place_;
    std::string bootstrap_;
};

// A topic of its own on a broker of the test's own, which the test may kill and start again.
class PrivateKafkaTopic {
  public:
    explicit PrivateKafkaTopic(int partitions = 6) : topic_(partitions, broker_.bootstrap()) {}
    std::string url(const std::string& properties = {}) const { return topic_.url(properties); }
    const std::string& topic() const { return topic_.topic(); }
    PrivateKafka& broker() { return broker_; }

  private:
    PrivateKafka broker_;
    KafkaTopic topic_;
};
#endif

}  // namespace ordinal::test
