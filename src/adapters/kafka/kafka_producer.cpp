#include "adapters/kafka/kafka_producer.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "codec/event_json.h"

namespace ordinal::kafka {
namespace {

// Ordinal's producer defaults; the URL's properties override them.
const Properties kProducerDefaults = {
    {"enable.idempotence", "true"},  // implies acks=all and ordered, gap-free retries
    {"acks", "all"},
    {"linger.ms", "1"},
    // A delivery that has not succeeded in this time fails; the relay retries the batch, so a
    // long outage costs retries, never lost events.
    {"message.timeout.ms", "10000"},
    {"queue.buffering.max.messages", "100000"},
    // Java clients' partitioner: a stream lands in the same partition whoever produces it.
    {"partitioner", "murmur2_random"},
    // After a broker comes back, reconnect within a second rather than librdkafka's backoff of up
    // to 10 s: until then the outbox waits (relay) or nothing is projected (projector).
    {"reconnect.backoff.max.ms", "1000"},
};

// One publish() call's outstanding deliveries. Shared with the delivery callbacks, which may run
// after publish() gave up waiting.
struct BatchState {
    std::atomic<std::size_t> remaining{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::string first_error;  // guarded by mu
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
    auto* state = static_cast<std::shared_ptr<BatchState>*>(msg->_private);
    if (!state) return;
    const bool persisted = msg->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                           rd_kafka_message_status(msg) == RD_KAFKA_MSG_STATUS_PERSISTED;
    if (!persisted) {
        std::lock_guard lock((*state)->mu);
        if (!(*state)->failed.exchange(true)) (*state)->first_error = rd_kafka_err2str(msg->err);
    }
    (*state)->remaining.fetch_sub(1);
    delete state;
}

std::string header_version(const Event& e) {
    return std::to_string(e.version);
}

int property_int(const KafkaAddress& address, const std::string& name, int fallback) {
    int value = fallback;
    for (const auto& [k, v] : kProducerDefaults) {
        if (k == name) value = std::stoi(v);
    }
    for (const auto& [k, v] : address.properties) {
        if (k == name) {
            try {
                value = std::stoi(v);
            } catch (...) {
            }
        }
    }
    return value;
}

}  // namespace

Producer::Producer(KafkaAddress address, Context* context, MetricsRegistry* metrics)
    : address_(std::move(address)), context_(context) {
    delivery_timeout_ms_ = property_int(address_, "message.timeout.ms", 10000);
    if (metrics) {
        delivered_ = &metrics->counter("ordinal_kafka_messages_delivered_total",
                                       "Events Kafka acknowledged (all in-sync replicas)");
        failed_ = &metrics->counter(
            "ordinal_kafka_delivery_failures_total",
            "Relay batches that failed to reach Kafka and will be published again");
        recreated_ = &metrics->counter("ordinal_kafka_producer_restarts_total",
                                       "Producers replaced after a fatal idempotence error");
        publish_seconds_ =
            &metrics->histogram("ordinal_kafka_publish_duration_seconds",
                                "Time from producing a relay batch to its last delivery report");
    }
}

Producer::~Producer() {
    if (handle_) rd_kafka_flush(handle_.get(), 2000);
}

Expected<std::unique_ptr<Producer>, std::string> Producer::create(const KafkaAddress& address,
                                                                  Context* context,
                                                                  MetricsRegistry* metrics) {
    std::unique_ptr<Producer> p(new Producer(address, context, metrics));
    if (auto ok = p->connect(); !ok) return unexpected(ok.error());
    return p;
}

Expected<void, std::string> Producer::connect() {
    auto handle = create_handle(
        RD_KAFKA_PRODUCER, kProducerDefaults, address_, context_,
        [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, on_delivery); });
    if (!handle) return unexpected(handle.error());
    if (handle_) {
        // A fatal producer cannot deliver what it holds; those events are still unpublished in
        // the outbox and go out again through the new producer.
        rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(handle_.get(), 0);
    }
    handle_ = std::move(*handle);
    return {};
}

Expected<void, StoreError> Producer::publish(std::span<const StoredEvent> events) {
    std::lock_guard lock(mu_);
    char fatal[256];
    if (rd_kafka_fatal_error(handle_.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (context_ && context_->log)
            context_->log(3, std::string("producer fatal error, replacing it: ") + fatal);
        if (auto ok = connect(); !ok)
            return unexpected(StoreError{StoreError::Kind::Unavailable, ok.error()});
        if (recreated_) recreated_->inc();
    }
    if (events.empty()) return {};
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::milliseconds(delivery_timeout_ms_ + 5000);
    auto batch = std::make_shared<BatchState>();
    batch->remaining = events.size();
    rd_kafka_t* rk = handle_.get();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i].event;
        // A row this build cannot decode goes out as it was stored: the consumer dead-letters
        // it and parks its stream, and a newer build's retry reads it.
        const auto& raw = events[i].undecoded;
        const std::string value = raw ? raw->envelope : encode_event_envelope(e);
        const std::string type = raw ? raw->type : std::string(event_type_name(e.data));
        const std::string stream_type = raw ? raw->stream.substr(0, raw->stream.find('/'))
                                            : std::string(stream_type_name(e.stream.type));
        const std::string version = header_version(e);
        auto* opaque = new std::shared_ptr<BatchState>(batch);
        rd_kafka_resp_err_t err;
        while (true) {
            err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(address_.topic.c_str()),
                RD_KAFKA_V_KEY(e.stream.id.data(), e.stream.id.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADER("eventId", e.event_id.data(),
                                  static_cast<ssize_t>(e.event_id.size())),
                RD_KAFKA_V_HEADER("type", type.data(), static_cast<ssize_t>(type.size())),
                RD_KAFKA_V_HEADER("streamType", stream_type.data(),
                                  static_cast<ssize_t>(stream_type.size())),
                RD_KAFKA_V_HEADER("version", version.data(), static_cast<ssize_t>(version.size())),
                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                std::chrono::steady_clock::now() >= deadline)
                break;
            rd_kafka_poll(rk, 10);  // serve delivery reports to make room
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            delete opaque;
            // Messages already produced keep their callbacks on `batch`; they may land, twice at
            // worst.
            if (failed_) failed_->inc();
            const auto kind = err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? StoreError::Kind::Overloaded
                                                                   : StoreError::Kind::Unavailable;
            return unexpected(
                StoreError{kind, std::string("kafka produce: ") + rd_kafka_err2str(err)});
        }
    }
    while (batch->remaining.load() > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        rd_kafka_flush(rk, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
    }
    if (batch->remaining.load() > 0) {
        if (failed_) failed_->inc();
        return unexpected(
            StoreError{StoreError::Kind::Timeout, "kafka: no delivery report in time"});
    }
    if (batch->failed.load()) {
        if (failed_) failed_->inc();
        std::lock_guard state_lock(batch->mu);
        return unexpected(StoreError{StoreError::Kind::Unavailable,
                                     "kafka delivery failed: " + batch->first_error});
    }
    if (delivered_) delivered_->inc(events.size());
    if (publish_seconds_) {
        publish_seconds_->observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    return {};
}

Expected<void, StoreError> Producer::check_ready() {
    std::lock_guard lock(mu_);
    rd_kafka_topic_t* topic = rd_kafka_topic_new(handle_.get(), address_.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(handle_.get(), 0, topic, &md, 1000);
    rd_kafka_topic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return unexpected(StoreError{StoreError::Kind::Unavailable,
                                     std::string("kafka: ") + rd_kafka_err2str(err)});
    }
    const bool usable = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                        md->topics[0].partition_cnt > 0;
    rd_kafka_metadata_destroy(md);
    if (!usable)
        return unexpected(StoreError{StoreError::Kind::Unavailable,
                                     "kafka topic " + address_.topic + " not available"});
    return {};
}

}  // namespace ordinal::kafka
