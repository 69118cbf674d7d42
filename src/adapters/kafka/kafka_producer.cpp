#include "adapters/kafka/kafka_producer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "codec/event_json.h"
#include "domain/thread_annotations.h"
#include "ports/thread_name.h"

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
    // TCP_NODELAY, as the Java clients always set: with Nagle's algorithm a produce request
    // written while an earlier one awaits its acks=all response waits for that response, which
    // serializes the in-flight requests the relay's pipeline relies on.
    {"socket.nagle.disable", "true"},
};

// One batch's outstanding deliveries. Shared with the delivery callbacks (on the producer's
// poller thread) and the batch's Publication; either may outlive the other.
struct BatchState {
    std::atomic<std::size_t> remaining{0};
    std::atomic<bool> failed{false};
    std::chrono::steady_clock::time_point started;
    std::mutex mu;
    std::condition_variable done;  // remaining reached 0
    std::string first_error GUARDED_BY(mu);
    std::function<void()> settled GUARDED_BY(mu);  // cleared when the Publication goes
    Counter* delivered = nullptr;
    Histogram* publish_seconds = nullptr;
    std::size_t size = 0;
    std::shared_ptr<PublishedEnds> ends;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
    auto* state = static_cast<std::shared_ptr<BatchState>*>(msg->_private);
    if (!state) return;
    BatchState& batch = **state;
    const bool persisted = msg->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                           rd_kafka_message_status(msg) == RD_KAFKA_MSG_STATUS_PERSISTED;
    if (!persisted) {
        std::lock_guard lock(batch.mu);
        if (!batch.failed.exchange(true)) batch.first_error = rd_kafka_err2str(msg->err);
    } else if (batch.ends && msg->offset >= 0) {
        std::lock_guard lock(batch.ends->mu);
        std::int64_t& end = batch.ends->next[msg->partition];
        end = std::max<std::int64_t>(end, msg->offset + 1);
    }
    if (batch.remaining.fetch_sub(1) == 1) {
        // The last report: the batch's outcome is known.
        std::lock_guard lock(batch.mu);
        if (!batch.failed.load()) {
            if (batch.delivered) batch.delivered->inc(batch.size);
            if (batch.publish_seconds) {
                batch.publish_seconds->observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - batch.started)
                        .count());
            }
        }
        batch.done.notify_all();
        if (batch.settled) batch.settled();
    }
    delete state;
}

// A produced batch: its outcome is known once every message has a delivery report, or when the
// deadline (message.timeout.ms + 5 s) passes without them.
class KafkaPublication final : public Publication {
  public:
    KafkaPublication(std::shared_ptr<BatchState> state,
                     std::chrono::steady_clock::time_point deadline, Counter* failed)
        : state_(std::move(state)), deadline_(deadline), failed_(failed) {}

    ~KafkaPublication() override {
        std::lock_guard lock(state_->mu);
        state_->settled = nullptr;
    }

    std::optional<Expected<void, StoreError>> outcome() override {
        if (state_->remaining.load() > 0) {
            if (std::chrono::steady_clock::now() < deadline_) return std::nullopt;
            count_failure();
            return Expected<void, StoreError>(unexpected(
                StoreError{StoreError::Kind::Timeout, "kafka: no delivery report in time"}));
        }
        if (state_->failed.load()) {
            count_failure();
            std::lock_guard lock(state_->mu);
            return Expected<void, StoreError>(unexpected(StoreError{
                StoreError::Kind::Unavailable, "kafka delivery failed: " + state_->first_error}));
        }
        return Expected<void, StoreError>{};
    }

    std::optional<Expected<void, StoreError>> wait(std::chrono::milliseconds timeout) override {
        {
            std::unique_lock lock(state_->mu);
            state_->done.wait_until(lock,
                                    std::min(deadline_, std::chrono::steady_clock::now() + timeout),
                                    [this] { return state_->remaining.load() == 0; });
        }
        return outcome();
    }

  private:
    void count_failure() {
        if (failed_ && !counted_) failed_->inc();
        counted_ = true;
    }

    std::shared_ptr<BatchState> state_;
    std::chrono::steady_clock::time_point deadline_;
    Counter* failed_;
    bool counted_ = false;
};

// A message's value and its type headers: views of the event's own fields where it has them.
struct Message {
    std::string encoded;  // the value, when it is encoded here
    std::string_view value;
    std::string_view type;
    std::string_view stream_type;
};

void message_of(const StoredEvent& stored, Message& m) {
    if (const auto& row = stored.as_stored) {
        // Fetched as its envelope (the relay asks for EventForm::Envelope): sent as it is,
        // nothing decoded or encoded here.
        m.value = row->envelope;
        m.type = row->type;
        m.stream_type = row->stream_type;
    } else if (const auto& raw = stored.undecoded) {
        // A row this build cannot decode goes out as it was stored: the consumer dead-letters
        // it and parks its stream, and a newer build's retry reads it.
        m.value = raw->envelope;
        m.type = raw->type;
        m.stream_type = std::string_view(raw->stream).substr(0, raw->stream.find('/'));
    } else {
        const Event& e = stored.event;
        m.encoded = encode_event_envelope(e);
        m.value = m.encoded;
        m.type = event_type_name(e.data);
        m.stream_type = stream_type_name(e.stream.type);
    }
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
    stop_poller();
    if (handle_) rd_kafka_flush(handle_.get(), 2000);
}

void Producer::start_poller() {
    polling_ = true;
    rd_kafka_t* rk = handle_.get();
    poller_ = std::thread([this, rk] {
        name_this_thread("kafka-reports");
        // Serves delivery reports as they come, so a batch's outcome is known without anyone
        // waiting on it (the relay fetches the next batch meanwhile).
        while (polling_.load()) rd_kafka_poll(rk, 50);
    });
}

void Producer::stop_poller() {
    polling_ = false;
    if (poller_.joinable()) poller_.join();
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
        stop_poller();
        rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(handle_.get(), 0);
    }
    handle_ = std::move(*handle);
    start_poller();
    return {};
}

Expected<void, StoreError> Producer::publish(std::span<const StoredEvent> events) {
    auto publication = publish_async(events, {});
    if (!publication) return unexpected(publication.error());
    // The publication's own deadline bounds this wait.
    auto outcome = (*publication)->wait(std::chrono::milliseconds(delivery_timeout_ms_ + 5000));
    if (!outcome)
        return unexpected(
            StoreError{StoreError::Kind::Timeout, "kafka: no delivery report in time"});
    return *outcome;
}

Expected<std::unique_ptr<Publication>, StoreError> Producer::publish_async(
    std::span<const StoredEvent> events, std::function<void()> settled) {
    std::lock_guard lock(mu_);
    char fatal[256];
    if (rd_kafka_fatal_error(handle_.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (context_ && context_->log)
            context_->log(3, std::string("producer fatal error, replacing it: ") + fatal);
        if (auto ok = connect(); !ok)
            return unexpected(StoreError{StoreError::Kind::Unavailable, ok.error()});
        if (recreated_) recreated_->inc();
    }
    auto batch = std::make_shared<BatchState>();
    batch->started = std::chrono::steady_clock::now();
    batch->remaining = events.size();
    batch->size = events.size();
    batch->delivered = delivered_;
    batch->publish_seconds = publish_seconds_;
    batch->ends = ends_;
    const auto deadline = batch->started + std::chrono::milliseconds(delivery_timeout_ms_ + 5000);
    auto publication = std::make_unique<KafkaPublication>(batch, deadline, failed_);
    if (events.empty()) {
        if (settled) settled();
        return std::unique_ptr<Publication>(std::move(publication));
    }
    {
        // Before the first message is produced: its report may come at once.
        std::lock_guard state_lock(batch->mu);
        batch->settled = std::move(settled);
    }
    rd_kafka_t* rk = handle_.get();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i].event;
        Message m;
        message_of(events[i], m);
        const std::string_view value = m.value;
        const std::string version = header_version(e);
        // The message takes the headers when produced; until then (a failure) they are ours.
        MessageHeaders headers(rd_kafka_headers_new(6));
        const auto add = [&](const char* name, std::string_view text) {
            rd_kafka_header_add(headers.get(), name, -1, text.data(),
                                static_cast<ssize_t>(text.size()));
        };
        add("eventId", e.event_id);
        add("type", m.type);
        add("streamType", m.stream_type);
        add("version", version);
        // W3C Trace Context over Kafka headers, under the HTTP header names, as OpenTelemetry's
        // Kafka instrumentation carries it.
        if (!events[i].trace.empty()) {
            add("traceparent", events[i].trace.traceparent);
            if (!events[i].trace.tracestate.empty()) add("tracestate", events[i].trace.tracestate);
        }
        auto* opaque = new std::shared_ptr<BatchState>(batch);
        rd_kafka_resp_err_t err;
        while (true) {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(address_.topic.c_str()),
                                    RD_KAFKA_V_KEY(e.stream.id.data(), e.stream.id.size()),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque),
                                    RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) headers.release();
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                std::chrono::steady_clock::now() >= deadline)
                break;
            // The poller serves delivery reports meanwhile, making room.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
    return std::unique_ptr<Publication>(std::move(publication));
}

std::map<std::int32_t, std::int64_t> Producer::published_ends() {
    std::lock_guard lock(ends_->mu);
    return ends_->next;
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
