#include "adapters/kafka/kafka_bus.h"

#include "adapters/kafka/kafka_consumer.h"
#include "adapters/kafka/kafka_producer.h"
#include "adapters/kafka/kafka_topic_check.h"

namespace ordinal {
namespace {

class KafkaBusImpl final : public KafkaBus {
  public:
    explicit KafkaBusImpl(KafkaBusOptions options) : options_(std::move(options)) {
        producer_context_.log = options_.log;
        consumer_context_.log = options_.log;
    }

    Expected<void, std::string> open() {
        auto address = parse_kafka_url(options_.url);
        if (!address) return unexpected(address.error());
        topic_ = address->topic;
        if (options_.produce || options_.consume) {
            if (auto ok = kafka::check_topic_exists(*address, std::chrono::seconds(5)); !ok)
                return unexpected(ok.error());
        }
        if (options_.produce) {
            auto p = kafka::Producer::create(*address, &producer_context_, options_.metrics);
            if (!p) return unexpected(p.error());
            producer_ = std::move(*p);
        }
        if (options_.consume) {
            auto c = kafka::Consumer::create(*address, &consumer_context_, options_.metrics,
                                             options_.max_batch);
            if (!c) return unexpected(c.error());
            consumer_ = std::move(*c);
        }
        return {};
    }

    ~KafkaBusImpl() override {
        consumer_.reset();  // leave the group before the producer goes
        producer_.reset();
    }

    Expected<void, StoreError> publish(std::span<const StoredEvent> events) override {
        if (!producer_)
            return unexpected(
                StoreError{StoreError::Kind::Internal, "no relay role in this process"});
        return producer_->publish(events);
    }

    std::unique_ptr<Publication> publish_async(std::span<const StoredEvent> events,
                                               std::function<void()> settled) override {
        if (!producer_) return Bus::publish_async(events, std::move(settled));  // fails as above
        auto publication = producer_->publish_async(events, settled);
        if (publication) return std::move(*publication);
        if (settled) settled();
        return std::make_unique<SettledPublication>(unexpected(publication.error()));
    }

    // The producer sends each event's envelope as bytes: the relay need not decode the rows.
    EventForm event_form() const override { return EventForm::Envelope; }

    void subscribe(EventConsumer* consumer) override {
        if (consumer_) consumer_->start(consumer);
    }

    Expected<void, StoreError> check_ready() override {
        if (producer_) {
            if (auto ok = producer_->check_ready(); !ok) return ok;
        }
        if (consumer_) return consumer_->check_ready();
        return {};
    }

    std::vector<std::string> assigned_partitions() override {
        return consumer_ ? consumer_->assigned() : std::vector<std::string>{};
    }

    bool holds_assignment() override { return !consumer_ || consumer_->holds_assignment(); }

    std::map<std::string, std::int64_t> published_ends() override {
        std::map<std::string, std::int64_t> out;
        if (!producer_) return out;
        for (const auto& [partition, end] : producer_->published_ends())
            out[kafka_partition_name(topic_, partition)] = end;
        return out;
    }

    std::map<std::string, HeldPartition> held_partitions() override {
        return consumer_ ? consumer_->held() : std::map<std::string, HeldPartition>{};
    }

  private:
    KafkaBusOptions options_;
    kafka::Context producer_context_;
    kafka::Context consumer_context_;
    std::unique_ptr<kafka::Producer> producer_;
    std::unique_ptr<kafka::Consumer> consumer_;
    std::string topic_;
};

}  // namespace

Expected<std::unique_ptr<KafkaBus>, std::string> make_kafka_bus(KafkaBusOptions options) {
    auto bus = std::make_unique<KafkaBusImpl>(std::move(options));
    if (auto ok = bus->open(); !ok) return unexpected(ok.error());
    return std::unique_ptr<KafkaBus>(std::move(bus));
}

}  // namespace ordinal
