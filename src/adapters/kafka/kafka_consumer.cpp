#include "adapters/kafka/kafka_consumer.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "codec/event_json.h"
#include "codec/trace_context.h"
#include "ports/thread_name.h"

namespace ordinal::kafka {
namespace {

const Properties kConsumerDefaults = {
    {"group.id", "ordinal-projector"},
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"auto.offset.reset", "earliest"},
    // How long the broker may hold a fetch that finds nothing. A broker answers a waiting fetch
    // as soon as a message arrives (fetch.min.bytes 1), so this bounds only idle fetches: 10 ms
    // cost an idle broker ~100 fetches a second. Not librdkafka's 500 ms: a new assignment or a
    // seek waits for the fetch in flight. librdkafka's mock cluster holds an empty fetch for the
    // whole wait even when messages arrive (tests/support/mock_kafka.h sets 10 there).
    {"fetch.wait.max.ms", "100"},
    // A projector that dies without leaving hands its partitions over after this long.
    {"session.timeout.ms", "10000"},
    {"heartbeat.interval.ms", "1000"},
    // After a broker comes back, reconnect within a second rather than librdkafka's backoff of up
    // to 10 s: until then the outbox waits (relay) or nothing is projected (projector).
    {"reconnect.backoff.max.ms", "1000"},
    // TCP_NODELAY, as the Java clients always set: a small fetch request must not wait for the
    // acknowledgement of the previous one.
    {"socket.nagle.disable", "true"},
};

std::string header(const rd_kafka_message_t* m, const char* name) {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !value)
        return {};
    return std::string(static_cast<const char*>(value), size);
}

// The message's W3C trace context headers; none when its traceparent is absent or invalid (any
// producer may write to the topic), and then its tracestate is ignored too, as the spec says.
TraceContext trace_of(const rd_kafka_message_t* m) {
    TraceContext out;
    std::string traceparent = header(m, "traceparent");
    if (traceparent.empty() || !parse_traceparent(traceparent)) return out;
    out.traceparent = std::move(traceparent);
    if (auto state = parse_tracestate(header(m, "tracestate"))) out.tracestate = std::move(*state);
    return out;
}

std::string payload_of(const rd_kafka_message_t* m) {
    return m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : std::string();
}

// What the message's headers and key say about it, for a message whose value cannot be read.
DeadLetter undecodable(const rd_kafka_message_t* m, const std::string& partition,
                       std::string reason) {
    DeadLetter d;
    d.position = BusPosition{partition, m->offset};
    const std::string stream_type = header(m, "streamType");
    const std::string key =
        m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : std::string();
    if (!stream_type.empty() && !key.empty()) d.stream = stream_type + "/" + key;
    try {
        d.version = std::stoll(header(m, "version"));
    } catch (...) {
        d.version = 0;
    }
    d.event_type = header(m, "type");
    d.payload = payload_of(m);
    d.reason = std::move(reason);
    return d;
}

}  // namespace

Consumer::Consumer(KafkaAddress address, Context* context, MetricsRegistry* metrics,
                   std::size_t max_batch)
    : address_(std::move(address)),
      context_(context),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      metrics_(metrics) {
    if (metrics) {
        consumed_ = &metrics->counter("ordinal_kafka_messages_consumed_total",
                                      "Messages handed to the projector");
        redelivered_ = &metrics->counter(
            "ordinal_kafka_redeliveries_total",
            "Partition runs the projector could not store, read again from the stored position");
        rebalances_ = &metrics->counter("ordinal_kafka_rebalances_total",
                                        "Consumer-group assignments and revocations");
        errors_ = &metrics->counter("ordinal_kafka_consumer_errors_total",
                                    "Errors the consumer reported (brokers, fetches)");
        partitions_ =
            &metrics->gauge("ordinal_kafka_assigned_partitions", "Partitions this projector holds");
    }
}

Expected<std::unique_ptr<Consumer>, std::string> Consumer::create(const KafkaAddress& address,
                                                                  Context* context,
                                                                  MetricsRegistry* metrics,
                                                                  std::size_t max_batch) {
    std::unique_ptr<Consumer> c(new Consumer(address, context, metrics, max_batch));
    context->owner = c.get();
    auto handle = create_handle(
        RD_KAFKA_CONSUMER, kConsumerDefaults, address, context,
        [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_rebalance_cb(conf, rebalance_callback); });
    if (!handle) return unexpected(handle.error());
    c->handle_ = std::move(*handle);
    rd_kafka_poll_set_consumer(c->handle_.get());
    return c;
}

Consumer::~Consumer() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (handle_) rd_kafka_consumer_close(handle_.get());
}

void Consumer::start(EventConsumer* sink) {
    sink_ = sink;
    PartitionList topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), address_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const auto err = rd_kafka_subscribe(handle_.get(), topics.get());
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (context_->log) context_->log(3, std::string("subscribe: ") + rd_kafka_err2str(err));
    }
    thread_ = std::thread([this] { loop(); });
}

std::vector<std::string> Consumer::assigned() {
    std::lock_guard lock(assigned_mu_);
    std::vector<std::string> out;
    for (auto p : assigned_) out.push_back(kafka_partition_name(address_.topic, p));
    return out;
}

std::map<std::string, HeldPartition> Consumer::held() {
    std::map<std::int32_t, std::int64_t> applied;
    {
        std::lock_guard lock(assigned_mu_);
        applied = applied_;
    }
    std::map<std::string, HeldPartition> out;
    for (const auto& [partition, next] : applied) {
        HeldPartition& h = out[kafka_partition_name(address_.topic, partition)];
        h.applied = next;
        std::int64_t low = 0, high = 0;
        if (rd_kafka_get_watermark_offsets(handle_.get(), address_.topic.c_str(), partition, &low,
                                           &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            high >= 0)
            h.end = high;
    }
    return out;
}

bool Consumer::holds_assignment() {
    std::lock_guard lock(assigned_mu_);
    return holds_assignment_;
}

void Consumer::rebalance_callback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
    static_cast<Consumer*>(static_cast<Context*>(opaque)->owner)->on_rebalance(err, parts);
}

void Consumer::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    if (rebalances_) rebalances_->inc();
    rd_kafka_t* rk = handle_.get();
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        // Still this member's: their last positions go to Kafka before the new owner's.
        commit_to_kafka(true);
        rd_kafka_assign(rk, nullptr);
        epochs_.clear();
        std::lock_guard lock(assigned_mu_);
        assigned_.clear();
        applied_.clear();
        holds_assignment_ = false;
        if (partitions_) partitions_->set(0);
        // The new owner reports these partitions now; 0 here lets `max by (partition)` across
        // projector processes show the owner's figure.
        for (auto& [partition, gauge] : lag_) gauge->set(0);
        return;
    }
    // Claim each partition in the read store first (a new owner epoch: a projector that lost it
    // and still finishes a batch is refused from then on; the claim waits for a batch of it being
    // stored), then start it where the read store says the projection got to. Without the two
    // nothing can be read safely, so wait for the store however long it takes.
    epochs_.clear();
    auto backoff = std::chrono::milliseconds(50);
    auto from_store = [&](const std::string& what, const std::string& name,
                          auto&& call) -> std::optional<std::int64_t> {
        while (true) {
            auto value = call(name);
            if (value) return *value;
            if (context_->log)
                context_->log(4, "cannot " + what + " " + name + ": " + value.error().message);
            if (stopping_) return std::nullopt;
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
    };
    for (int i = 0; i < parts->cnt; ++i) {
        auto& p = parts->elems[i];
        const std::string name = kafka_partition_name(p.topic, p.partition);
        const auto epoch = from_store(
            "claim", name, [&](const std::string& n) { return sink_->claim_partition(n); });
        if (!epoch) return;
        epochs_[p.partition] = *epoch;
        const auto stored =
            from_store("read the stored position of", name,
                       [&](const std::string& n) { return sink_->stored_position(n); });
        if (!stored) return;
        p.offset = *stored > 0 ? *stored : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    std::lock_guard lock(assigned_mu_);
    assigned_.clear();
    applied_.clear();
    for (int i = 0; i < parts->cnt; ++i) {
        assigned_.insert(parts->elems[i].partition);
        applied_[parts->elems[i].partition] = std::max<std::int64_t>(parts->elems[i].offset, 0);
    }
    holds_assignment_ = true;
    if (partitions_) partitions_->set(static_cast<double>(assigned_.size()));
    if (context_->log)
        context_->log(
            6, "assigned " + std::to_string(parts->cnt) + " partition(s) of " + address_.topic);
}

void Consumer::seek(std::int32_t partition, std::int64_t offset) {
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), address_.topic.c_str(), partition)->offset =
        offset;
    if (rd_kafka_error_t* error = rd_kafka_seek_partitions(handle_.get(), list.get(), 2000)) {
        if (context_->log) context_->log(4, std::string("seek: ") + rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

bool Consumer::deliver(
    const std::map<std::int32_t, std::vector<rd_kafka_message_t*>>& by_partition) {
    std::vector<Delivery> deliveries;
    std::vector<std::vector<std::int64_t>> offsets;
    deliveries.reserve(by_partition.size());
    offsets.reserve(by_partition.size());
    std::size_t count = 0;
    for (const auto& [partition, messages] : by_partition) {
        const std::string name = kafka_partition_name(address_.topic, partition);
        Delivery& delivery = deliveries.emplace_back();
        std::vector<std::int64_t>& at = offsets.emplace_back();
        for (const rd_kafka_message_t* m : messages) {
            const std::string_view value(m->payload ? static_cast<const char*>(m->payload) : "",
                                         m->len);
            auto event = decode_event_envelope(value);
            if (event) {
                delivery.events.push_back(std::move(*event));
                delivery.traces.push_back(trace_of(m));
                at.push_back(m->offset);
            } else {
                delivery.dead.push_back(undecodable(m, name, "undecodable: " + event.error()));
            }
        }
        delivery.position = BusPosition{name, messages.back()->offset + 1};
        if (const auto it = epochs_.find(partition); it != epochs_.end())
            delivery.owner_epoch = it->second;
        count += messages.size();
    }
    std::vector<DeliveryPart> parts;
    parts.reserve(deliveries.size());
    for (std::size_t i = 0; i < deliveries.size(); ++i)
        parts.push_back(DeliveryPart{&deliveries[i], offsets[i]});
    // One read-store transaction for every partition of the poll: one commit, not one each.
    auto ok = sink_->consume_deliveries(parts);
    if (!ok) {
        if (redelivered_) redelivered_->inc();
        if (context_->log)
            context_->log(4, "projection of " + std::to_string(by_partition.size()) +
                                 " partition(s) failed, reading them again: " + ok.error().message);
        // Part of the poll may be stored already (with any dead letters it made): each partition
        // goes on from its stored position, or from its run's start when even that cannot be read.
        for (const auto& [partition, messages] : by_partition) {
            auto stored = sink_->stored_position(kafka_partition_name(address_.topic, partition));
            seek(partition, stored && *stored > 0 ? *stored : messages.front()->offset);
        }
        return false;
    }
    if (consumed_) consumed_->inc(count);
    {
        std::lock_guard lock(assigned_mu_);
        for (const auto& [partition, messages] : by_partition)
            if (assigned_.count(partition)) applied_[partition] = messages.back()->offset + 1;
    }
    for (const auto& [partition, messages] : by_partition)
        uncommitted_[partition] = messages.back()->offset + 1;
    return true;
}

void Consumer::commit_to_kafka(bool now) {
    // Kafka's committed offsets are for monitoring tools only (the positions that count are in
    // the read store), so they go out at most once a second, not after every poll: each commit
    // is a request the broker appends to __consumer_offsets, and its answer a wake-up of this
    // consumer, on the path of every projection.
    const auto at = std::chrono::steady_clock::now();
    if (uncommitted_.empty() || (!now && at - committed_at_ < std::chrono::seconds(1))) return;
    committed_at_ = at;
    PartitionList commit(rd_kafka_topic_partition_list_new(static_cast<int>(uncommitted_.size())));
    for (const auto& [partition, next] : uncommitted_)
        rd_kafka_topic_partition_list_add(commit.get(), address_.topic.c_str(), partition)->offset =
            next;
    uncommitted_.clear();
    rd_kafka_commit(handle_.get(), commit.get(), 1);
}

void Consumer::loop() {
    name_this_thread("kafka-consume");
    rd_kafka_t* rk = handle_.get();
    auto backoff = std::chrono::milliseconds(0);
    while (!stopping_) {
        if (backoff.count() > 0) std::this_thread::sleep_for(backoff);
        std::vector<rd_kafka_message_t*> batch;
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        while (m) {
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                batch.push_back(m);
            } else {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    if (errors_) errors_->inc();
                    if (context_->log)
                        context_->log(4, std::string("consumer: ") + rd_kafka_message_errstr(m));
                }
                rd_kafka_message_destroy(m);
            }
            if (batch.size() >= max_batch_) break;
            m = rd_kafka_consumer_poll(rk, 0);
        }
        // Each partition's messages in their order; a partition revoked while the batch was being
        // collected is left to its new owner.
        std::map<std::int32_t, std::vector<rd_kafka_message_t*>> by_partition;
        {
            std::lock_guard lock(assigned_mu_);
            for (auto* msg : batch) {
                if (assigned_.count(msg->partition)) by_partition[msg->partition].push_back(msg);
            }
        }
        const bool failed = !by_partition.empty() && !deliver(by_partition);
        for (auto* msg : batch) rd_kafka_message_destroy(msg);
        backoff = failed ? std::min(std::max(backoff * 2, std::chrono::milliseconds(50)),
                                    std::chrono::milliseconds(2000))
                         : std::chrono::milliseconds(0);
        update_lag();
        commit_to_kafka(false);
    }
    commit_to_kafka(true);  // what was applied last, before the consumer leaves the group
}

Gauge& Consumer::lag_gauge(std::int32_t partition) {
    auto it = lag_.find(partition);
    if (it == lag_.end()) {
        Gauge& g = metrics_->gauge(
            "ordinal_kafka_consumer_lag",
            "Messages of a partition this projector holds not yet applied: the partition's end "
            "minus the position applied (0 for a partition it does not hold)",
            {{"partition", std::to_string(partition)}});
        it = lag_.emplace(partition, &g).first;
    }
    return *it->second;
}

void Consumer::update_lag() {
    if (!metrics_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - lag_updated_ < std::chrono::seconds(1)) return;
    lag_updated_ = now;
    std::map<std::int32_t, std::int64_t> applied;
    {
        std::lock_guard lock(assigned_mu_);
        applied = applied_;
    }
    for (const auto& [partition, position] : applied) {
        std::int64_t low = 0, high = 0;
        // Cached from fetch responses; unknown (-1) until the first one.
        if (rd_kafka_get_watermark_offsets(handle_.get(), address_.topic.c_str(), partition, &low,
                                           &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0)
            continue;
        // A stored position of 0 means "from the start": the retained log begins at `low`.
        const std::int64_t from = std::max(position, low);
        lag_gauge(partition).set(static_cast<double>(std::max<std::int64_t>(high - from, 0)));
    }
}

Expected<void, StoreError> Consumer::check_ready() {
    char fatal[256];
    if (rd_kafka_fatal_error(handle_.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return unexpected(
            StoreError{StoreError::Kind::Internal, std::string("kafka consumer: ") + fatal});
    }
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(handle_.get(), 0, nullptr, &md, 1000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return unexpected(StoreError{StoreError::Kind::Unavailable,
                                     std::string("kafka: ") + rd_kafka_err2str(err)});
    }
    rd_kafka_metadata_destroy(md);
    return {};
}

}  // namespace ordinal::kafka
