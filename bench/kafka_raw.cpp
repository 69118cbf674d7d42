// kafka_raw — the physical limit of the relay's Kafka side (see bench/README.md).
//
// Produces --records messages of --record-size bytes with librdkafka, the library the relay uses,
// with whatever producer properties it is given (bench/run_relay.sh passes Ordinal's own), keyed
// like the relay's (--keys distinct stream ids: one partition per key), and waits for every
// delivery report. No PostgreSQL, no JSON: the relay's events/s is to be read against this, and
// this against kafka-producer-perf-test (the Java client, no keys) on the same broker.
//   --batch 0       unthrottled: everything produced at once, as kafka-producer-perf-test does;
//   --batch B --in-flight F
//                   the relay's shape: batches of B messages, at most F of them awaiting their
//                   delivery reports, the next produced as soon as one is confirmed.
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
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
    long records = 50000;
    int record_size = 500;
    int keys = 10000;
    int batch = 0;
    int in_flight = 4;
    std::vector<std::string> properties;
    bool json = false;
};

// One batch's outstanding reports (the whole run is one batch when --batch is 0).
struct Batch {
    std::atomic<long> remaining{0};
    Clock::time_point started;
};

struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    long settled_batches = 0;
    long failed = 0;
    LatencyHistogram batch_latency;  // produce -> last report, µs
};
Shared shared;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
    auto* batch = static_cast<Batch*>(msg->_private);
    const bool ok = msg->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                    rd_kafka_message_status(msg) == RD_KAFKA_MSG_STATUS_PERSISTED;
    if (batch->remaining.fetch_sub(1) != 1 && ok) return;
    std::lock_guard lock(shared.mu);
    if (!ok) ++shared.failed;
    if (batch->remaining.load() == 0) {
        shared.batch_latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - batch->started)
                .count()));
        ++shared.settled_batches;
        shared.cv.notify_all();
    }
}

rd_kafka_t* make_producer(const Options& o) {
    rd_kafka_conf_t* conf = ordinal::bench::kafka_conf(o.brokers, o.properties);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) throw std::runtime_error(err);
    return rk;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Raw librdkafka producer: the relay's Kafka side without the relay"};
    app.add_option("--brokers", o.brokers, "bootstrap.servers")->required();
    app.add_option("--topic", o.topic, "Topic (must exist)")->required();
    app.add_option("--records", o.records, "Messages")->capture_default_str();
    app.add_option("--record-size", o.record_size, "Bytes per message value")
        ->capture_default_str();
    app.add_option("--keys", o.keys, "Distinct message keys (stream ids)")->capture_default_str();
    app.add_option("--batch", o.batch, "Messages per batch (0: all at once)")
        ->capture_default_str();
    app.add_option("--in-flight", o.in_flight, "Batches awaiting reports at once")
        ->capture_default_str();
    app.add_option("--property", o.properties, "librdkafka property k=v (repeatable)");
    app.add_flag("--json", o.json, "One JSON result line on stdout");
    CLI11_PARSE(app, argc, argv);

    rd_kafka_t* rk = nullptr;
    try {
        rk = make_producer(o);
    } catch (const std::exception& e) {
        std::cerr << "kafka_raw: " << e.what() << "\n";
        return 1;
    }
    std::atomic<bool> polling{true};
    std::thread poller([&] {
        while (polling.load()) rd_kafka_poll(rk, 50);
    });

    std::mt19937_64 rng(42);
    std::vector<std::string> keys(static_cast<std::size_t>(std::max(1, o.keys)));
    for (std::string& k : keys) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%016llx-%015llx", static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng() >> 4));
        k = buf;
    }
    const std::string value(static_cast<std::size_t>(o.record_size), 'x');
    const long per_batch = o.batch > 0 ? o.batch : o.records;
    std::deque<std::unique_ptr<Batch>> batches;
    const auto started = Clock::now();
    long produced = 0, batches_made = 0;
    while (produced < o.records) {
        {
            std::unique_lock lock(shared.mu);
            shared.cv.wait(lock, [&] {
                return batches_made - shared.settled_batches < std::max(1, o.in_flight) ||
                       o.batch == 0;
            });
        }
        auto batch = std::make_unique<Batch>();
        const long n = std::min(per_batch, o.records - produced);
        batch->remaining = n;
        batch->started = Clock::now();
        for (long i = 0; i < n; ++i) {
            const std::string& key = keys[static_cast<std::size_t>(rng() % keys.size())];
            while (true) {
                const auto err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(batch.get()),
                    RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    std::cerr << "kafka_raw: produce: " << rd_kafka_err2str(err) << "\n";
                    return 1;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        produced += n;
        ++batches_made;
        batches.push_back(std::move(batch));
    }
    {
        std::unique_lock lock(shared.mu);
        shared.cv.wait_for(lock, std::chrono::seconds(120),
                           [&] { return shared.settled_batches == batches_made; });
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    polling = false;
    poller.join();
    rd_kafka_flush(rk, 5000);
    rd_kafka_destroy(rk);

    std::lock_guard lock(shared.mu);
    const double eps = static_cast<double>(produced) / seconds;
    const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    if (o.json) {
        std::printf(
            "{\"records\":%ld,\"seconds\":%.3f,\"eps\":%.1f,\"batches\":%ld,\"failed\":%ld,"
            "\"batch_p50_ms\":%.2f,\"batch_p99_ms\":%.2f,\"batch_mean_ms\":%.2f}\n",
            produced, seconds, eps, batches_made, shared.failed,
            ms(shared.batch_latency.percentile(0.5)), ms(shared.batch_latency.percentile(0.99)),
            shared.batch_latency.mean() / 1000.0);
    } else {
        std::printf("%ld records in %.3f s: %.0f records/s, %ld batches, %ld failed\n", produced,
                    seconds, eps, batches_made, shared.failed);
    }
    return shared.failed == 0 && shared.settled_batches == batches_made ? 0 : 1;
}
