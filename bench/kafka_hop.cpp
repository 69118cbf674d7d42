// kafka_hop — the broker's hop alone: produce -> consume latency at a fixed rate, open loop, with
// no PostgreSQL, no HTTP and no service between (see bench/README.md).
//
// One producer and one consumer in this process, with whatever properties they are given
// (bench/run_lag.sh passes Ordinal's relay producer's and projector consumer's). Every --rate per
// second for --warmup then --duration seconds a message is produced with its intended and its
// actual send time in its value; the consumer, assigned every partition of the topic from its end
// offsets (no group membership, so no rebalance), records now - intended send time for the
// messages due after the warm-up. Latency counts from the intended time, so a producer that falls
// behind its schedule shows in the figures, as loadgen's do; the actual send time splits that
// lateness (this process waiting for a core) from the hop itself (send -> consume).
//
// Run beside the service's load (bench/run_lag.sh's HOP_RATE), it measures what the Kafka stage
// alone costs a message on the same broker and machine at the same moment: the floor under the
// service's ack -> visible lag that no change to Ordinal can go below.
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kafka_conf.h"
#include "latency_histogram.h"

namespace {

using Clock = std::chrono::steady_clock;
using ordinal::bench::LatencyHistogram;

struct Options {
    std::string brokers;
    std::string topic;
    double rate = 100;
    double duration = 10;
    double warmup = 0;
    int record_size = 500;
    int keys = 10000;
    std::vector<std::string> producer_properties;
    std::vector<std::string> consumer_properties;
    std::string timeline;
    bool json = false;
};

std::int64_t nanos_since(Clock::time_point origin, Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - origin).count();
}

rd_kafka_t* make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) throw std::runtime_error(err);
    return rk;
}

// Every partition of `topic`, each from its current high watermark: what is produced from here
// on, and nothing before.
rd_kafka_topic_partition_list_t* from_the_end(rd_kafka_t* consumer, const std::string& topic) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
    const auto err = rd_kafka_metadata(consumer, 0, t, &md, 10000);
    rd_kafka_topic_destroy(t);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt == 0) {
        if (md) rd_kafka_metadata_destroy(md);
        throw std::runtime_error("no metadata for topic " + topic);
    }
    auto* list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
        const std::int32_t p = md->topics[0].partitions[i].id;
        std::int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), p, &low, &high, 10000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            rd_kafka_topic_partition_list_destroy(list);
            throw std::runtime_error("no watermarks for partition " + std::to_string(p));
        }
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = high;
    }
    rd_kafka_metadata_destroy(md);
    return list;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"The broker's hop alone: produce -> consume latency at a fixed rate"};
    app.add_option("--brokers", o.brokers, "bootstrap.servers")->required();
    app.add_option("--topic", o.topic, "Topic (must exist; used by nothing else)")->required();
    app.add_option("--rate", o.rate, "Messages per second")->capture_default_str();
    app.add_option("--duration", o.duration, "Seconds of producing, measured")
        ->capture_default_str();
    app.add_option("--warmup", o.warmup, "Seconds of producing first, not measured")
        ->capture_default_str();
    app.add_option("--record-size", o.record_size, "Bytes per message value (at least 16)")
        ->capture_default_str();
    app.add_option("--keys", o.keys, "Distinct message keys (stream ids)")->capture_default_str();
    app.add_option("--property", o.producer_properties, "Producer property k=v (repeatable)");
    app.add_option("--consumer-property", o.consumer_properties,
                   "Consumer property k=v (repeatable)");
    app.add_option("--timeline", o.timeline,
                   "TSV file: per 100 ms of intended send time, messages and their worst hop");
    app.add_flag("--json", o.json, "One JSON result line on stdout");
    CLI11_PARSE(app, argc, argv);
    if (o.rate <= 0 || o.duration <= 0 || o.warmup < 0 || o.record_size < 16) {
        std::cerr << "kafka_hop: --rate and --duration must be positive, --warmup not negative, "
                     "--record-size >= 16\n";
        return 2;
    }

    rd_kafka_t* producer = nullptr;
    rd_kafka_t* consumer = nullptr;
    std::vector<std::int32_t> partitions;
    try {
        producer = make_handle(RD_KAFKA_PRODUCER,
                               ordinal::bench::kafka_conf(o.brokers, o.producer_properties));
        std::vector<std::string> cprops{"group.id=kafka-hop", "enable.auto.commit=false"};
        cprops.insert(cprops.end(), o.consumer_properties.begin(), o.consumer_properties.end());
        consumer = make_handle(RD_KAFKA_CONSUMER, ordinal::bench::kafka_conf(o.brokers, cprops));
        rd_kafka_poll_set_consumer(consumer);
        rd_kafka_topic_partition_list_t* parts = from_the_end(consumer, o.topic);
        for (int i = 0; i < parts->cnt; ++i) partitions.push_back(parts->elems[i].partition);
        const auto err = rd_kafka_assign(consumer, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(err));
    } catch (const std::exception& e) {
        std::cerr << "kafka_hop: " << e.what() << "\n";
        return 1;
    }

    const auto origin = Clock::now();
    const long to_send = static_cast<long>(o.rate * (o.warmup + o.duration));
    const auto warmup_ns = static_cast<std::int64_t>(o.warmup * 1e9);
    constexpr std::int64_t kPrimer = -1;  // a send time no measured message has
    std::atomic<long> received{0}, primed{0};
    std::atomic<bool> consuming{true};
    // The consumer thread's until it is joined, in µs: from the intended send time, from the
    // actual one, and how late the send was.
    LatencyHistogram hop, from_send, send_late;
    // Per 100 ms slot of intended send time (from the end of the warm-up): messages, worst µs.
    const auto slots = static_cast<std::size_t>(o.duration * 10) + 1;
    std::vector<std::pair<long, std::uint64_t>> timeline(slots, {0, 0});
    std::atomic<std::int64_t> schedule_start{0};  // ns since origin, set once primed
    std::thread reader([&] {
        while (consuming.load()) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 50);
            if (!m) continue;
            if (!m->err && m->len >= 2 * sizeof(std::int64_t)) {
                std::int64_t intended = 0, actual = 0;
                std::memcpy(&intended, m->payload, sizeof intended);
                std::memcpy(&actual, static_cast<const char*>(m->payload) + sizeof intended,
                            sizeof actual);
                if (intended == kPrimer) {
                    ++primed;
                    rd_kafka_message_destroy(m);
                    continue;
                }
                const std::int64_t now = nanos_since(origin, Clock::now());
                const std::int64_t due = intended - schedule_start.load() - warmup_ns;
                const auto micros = [](std::int64_t ns) {
                    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns)) / 1000;
                };
                if (due >= 0) {
                    const auto us = micros(now - intended);
                    hop.record(us);
                    from_send.record(micros(now - actual));
                    send_late.record(micros(actual - intended));
                    const auto slot = static_cast<std::size_t>(due / 100'000'000);
                    if (slot < timeline.size()) {
                        ++timeline[slot].first;
                        timeline[slot].second = std::max(timeline[slot].second, us);
                    }
                }
                ++received;
            }
            rd_kafka_message_destroy(m);
        }
    });
    std::atomic<bool> polling{true};
    std::thread reports([&] {
        while (polling.load()) rd_kafka_poll(producer, 50);
    });

    std::mt19937_64 rng(7);
    std::vector<std::string> keys(static_cast<std::size_t>(std::max(1, o.keys)));
    for (std::string& k : keys) k = std::to_string(rng());
    std::string value(static_cast<std::size_t>(o.record_size), 'x');
    // The clock starts once one message per partition has come back: until then the first
    // fetches, the producer's id and the connections to each leader are still being set up (a
    // second here), which is the consumer's and producer's start, not the hop.
    std::memcpy(value.data(), &kPrimer, sizeof kPrimer);
    for (const std::int32_t p : partitions) {
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(p),
                          RD_KAFKA_V_VALUE(value.data(), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    const auto primed_by = Clock::now() + std::chrono::seconds(30);
    while (primed.load() < static_cast<long>(partitions.size()) && Clock::now() < primed_by)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto start = Clock::now();
    // For the timeline's header: when its slots start, after the warm-up.
    const auto wall_start = std::chrono::system_clock::now() +
                            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double>(o.warmup));
    schedule_start = nanos_since(origin, start);
    const auto interval = std::chrono::duration<double>(1.0 / o.rate);
    long sent = 0, failed = 0;
    for (long i = 0; i < to_send; ++i) {
        const auto intended =
            start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
        std::this_thread::sleep_until(intended);
        const std::int64_t stamps[2] = {nanos_since(origin, intended),
                                        nanos_since(origin, Clock::now())};
        std::memcpy(value.data(), stamps, sizeof stamps);
        const std::string& key = keys[static_cast<std::size_t>(rng() % keys.size())];
        const auto err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
            RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        err == RD_KAFKA_RESP_ERR_NO_ERROR ? ++sent : ++failed;
    }
    if (rd_kafka_flush(producer, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        std::cerr << "kafka_hop: messages still unsent after 10 s\n";
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (received.load() < sent && Clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    consuming = false;
    reader.join();
    polling = false;
    reports.join();
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);

    const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    const long got = received.load();
    if (!o.timeline.empty()) {
        if (FILE* f = std::fopen(o.timeline.c_str(), "w")) {
            const std::time_t t = std::chrono::system_clock::to_time_t(wall_start);
            std::tm utc{};
            gmtime_r(&t, &utc);
            char when[32];
            std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
            const auto millis =
                std::chrono::duration_cast<std::chrono::milliseconds>(wall_start.time_since_epoch())
                    .count() %
                1000;
            std::fprintf(f, "# t_ms from %s.%03lldZ\n", when, static_cast<long long>(millis));
            std::fprintf(f, "t_ms\tmessages\tworst_hop_ms\n");
            for (std::size_t i = 0; i < timeline.size(); ++i)
                std::fprintf(f, "%zu\t%ld\t%.2f\n", i * 100, timeline[i].first,
                             ms(timeline[i].second));
            std::fclose(f);
        }
    }
    if (o.json) {
        std::printf(
            "{\"rate\":%.1f,\"sent\":%ld,\"failed\":%ld,\"received\":%ld,\"lost\":%ld,"
            "\"measured\":%llu,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,"
            "\"max_ms\":%.2f,\"from_send_p99_ms\":%.2f,\"send_late_p99_ms\":%.2f}\n",
            o.rate, sent, failed, got, sent - got, static_cast<unsigned long long>(hop.count()),
            ms(hop.percentile(0.5)), ms(hop.percentile(0.99)), ms(hop.percentile(0.999)),
            ms(hop.max()), ms(from_send.percentile(0.99)), ms(send_late.percentile(0.99)));
    } else {
        std::printf(
            "%ld sent, %ld received; produce -> consume p50 / p99 / p99.9 / max ms: "
            "%.2f / %.2f / %.2f / %.2f; from the actual send p99 %.2f; sends late p99 %.2f\n",
            sent, got, ms(hop.percentile(0.5)), ms(hop.percentile(0.99)), ms(hop.percentile(0.999)),
            ms(hop.max()), ms(from_send.percentile(0.99)), ms(send_late.percentile(0.99)));
    }
    // A lost message or an unprimed partition shows in the result (received, lost) and is said
    // here; the exit code is for not getting as far as a result, so the figures are never lost.
    if (primed.load() < static_cast<long>(partitions.size()))
        std::cerr << "kafka_hop: only " << primed.load() << " of " << partitions.size()
                  << " partitions answered before the clock started\n";
    if (failed > 0 || got != sent)
        std::cerr << "kafka_hop: " << failed << " produce calls failed, " << sent - got
                  << " messages sent did not come back\n";
    return 0;
}
