// A race between main and a callback librdkafka runs on one of its own threads. Under TSan this
// must be reported: it proves librdkafka's threads start under TSan at all (with GCC 12 they
// did not, see src/adapters/kafka/tsan/c11_threads_for_tsan.cpp) and that the suppression of
// librdkafka's own calls leaves Ordinal's code, its callbacks included, checked. The CTest test
// passes on TSan's report, not on the exit code. librdkafka is included here, outside its adapter,
// because the callback thread is what is under test.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

int written_on_a_librdkafka_thread = 0;
// Relaxed: tells main the callback ran without ordering the plain write before main's read.
std::atomic<bool> callback_ran{false};

void on_log(const rd_kafka_t*, int, const char*, const char*) {
    written_on_a_librdkafka_thread = 1;
    callback_ran.store(true, std::memory_order_relaxed);
}

}  // namespace

int main() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // Nothing listens on port 1: the broker thread logs the refused connection at once.
    if (rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "%s\n", error);
        return 2;
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (producer == nullptr) {
        std::fprintf(stderr, "%s\n", error);
        return 2;
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!callback_ran.load(std::memory_order_relaxed) &&
           std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::printf("written: %d\n", written_on_a_librdkafka_thread);
    rd_kafka_destroy(producer);
    return 0;
}
