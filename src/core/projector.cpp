#include "core/projector.h"

#include <algorithm>
#include <chrono>

#include "core/event_age.h"

namespace ordinal {
namespace {

Counter& dead_letters_counter(MetricsRegistry& metrics, const char* reason) {
    return metrics.counter("ordinal_projection_dead_letters_total",
                           "Bus messages dead-lettered, by why: bus (undecodable), blocked "
                           "(behind an earlier dead letter of the stream), failed (to apply)",
                           {{"reason", reason}});
}

// One message of a delivery, for applying alone.
struct Message {
    std::int64_t offset = 0;
    const Event* event = nullptr;      // or
    const DeadLetter* dead = nullptr;  // as the bus gave it
};

}  // namespace

Projector::Projector(ReadStore& store, ConsistencyGate* gate, MetricsRegistry& metrics,
                     EventEncoder encode_event, std::function<void(const std::string&)> warn,
                     LogSink applied)
    : store_(store),
      gate_(gate),
      encode_event_(std::move(encode_event)),
      warn_(std::move(warn)),
      applied_log_(std::move(applied)),
      applied_(metrics.counter("ordinal_projection_events_applied_total",
                               "Events applied to the read model")),
      skipped_(metrics.counter("ordinal_projection_events_skipped_total",
                               "Redelivered events skipped because their stream version was "
                               "already applied, or gaps a later copy will fill")),
      failures_(metrics.counter("ordinal_projection_failures_total",
                                "Projection batches that failed and will be retried")),
      fenced_(metrics.counter("ordinal_projection_fenced_batches_total",
                              "Partition deliveries refused and dropped because another projector "
                              "claimed the partition since (a zombie's late batch)")),
      dead_from_bus_(dead_letters_counter(metrics, "bus")),
      dead_blocked_(dead_letters_counter(metrics, "blocked")),
      dead_failed_(dead_letters_counter(metrics, "failed")),
      batch_latency_(metrics.histogram("ordinal_projection_batch_duration_seconds",
                                       "Read-store transaction time per batch")),
      lag_(metrics.histogram("ordinal_projection_lag_seconds",
                             "Time from an event's command (its occurred_at) to the commit that "
                             "projected it",
                             {}, lag_buckets())),
      received_(metrics.histogram("ordinal_projection_receive_age_seconds",
                                  "Time from an event's command (its occurred_at) to the projector "
                                  "receiving it from the bus, before its transaction",
                                  {}, lag_buckets())),
      position_(metrics.gauge("ordinal_projection_position",
                              "Bus position the projector has applied up to")) {}

Expected<void, StoreError> Projector::consume(std::span<const Event> events,
                                              const BusPosition& position) {
    observe_received(events);
    const auto started = std::chrono::steady_clock::now();
    auto result = store_.apply(events, position);
    if (!result) {
        failures_.inc();
        return unexpected(result.error());
    }
    batch_latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    record(*result, {});
    observe_lag(events);
    position_.set(static_cast<double>(position.offset));
    return {};
}

// position_ is one series, for the in-process bus (an in-order delivery); the positions of a
// partitioned bus are in the admin status.
Expected<void, StoreError> Projector::consume_delivery(const Delivery& delivery,
                                                       std::span<const std::int64_t> offsets) {
    observe_received(delivery.events);
    return project_delivery(delivery, offsets);
}

Expected<void, StoreError> Projector::project_delivery(const Delivery& delivery,
                                                       std::span<const std::int64_t> offsets) {
    const auto started = std::chrono::steady_clock::now();
    auto result = store_.apply_delivery(delivery, offsets);
    if (!result && result.error().kind == StoreError::Kind::Fenced)
        return drop_fenced(delivery, result.error());
    if (!result && !result.error().retryable() && offsets.size() == delivery.events.size()) {
        return take_apart(delivery, offsets);
    }
    if (!result) {
        failures_.inc();
        return unexpected(result.error());
    }
    batch_latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    record(*result, delivery.dead);
    observe_lag(delivery.events);
    log_applied(delivery, offsets);
    if (delivery.in_order) position_.set(static_cast<double>(delivery.position.offset));
    return {};
}

Expected<void, StoreError> Projector::consume_deliveries(std::span<const DeliveryPart> parts) {
    for (const DeliveryPart& part : parts) observe_received(part.delivery->events);
    if (parts.size() == 1) return project_delivery(*parts[0].delivery, parts[0].offsets);
    const auto started = std::chrono::steady_clock::now();
    auto results = store_.apply_deliveries(parts);
    // Fenced as well: each part alone, so that only the fenced ones are dropped.
    if (!results && !results.error().retryable()) {
        for (const DeliveryPart& part : parts) {
            if (auto ok = project_delivery(*part.delivery, part.offsets); !ok) return ok;
        }
        return {};
    }
    if (!results) {
        failures_.inc();
        return unexpected(results.error());
    }
    batch_latency_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < parts.size(); ++i) {
        record((*results)[i], parts[i].delivery->dead);
        observe_lag(parts[i].delivery->events);
        log_applied(*parts[i].delivery, parts[i].offsets);
    }
    return {};
}

Expected<void, StoreError> Projector::take_apart(const Delivery& delivery,
                                                 std::span<const std::int64_t> offsets) {
    std::vector<Message> messages;
    for (std::size_t i = 0; i < delivery.events.size(); ++i)
        messages.push_back(Message{offsets[i], &delivery.events[i], nullptr});
    for (const DeadLetter& d : delivery.dead)
        messages.push_back(Message{d.position.offset, nullptr, &d});
    std::stable_sort(messages.begin(), messages.end(),
                     [](const Message& a, const Message& b) { return a.offset < b.offset; });

    const std::string& partition = delivery.position.partition;
    for (const Message& m : messages) {
        Delivery one;
        one.position = BusPosition{partition, m.offset + 1};
        one.in_order = delivery.in_order;
        one.owner_epoch = delivery.owner_epoch;
        const std::int64_t offset[] = {m.offset};
        std::span<const std::int64_t> one_offset;
        if (m.event) {
            one.events.push_back(*m.event);
            const auto index = static_cast<std::size_t>(m.event - delivery.events.data());
            if (index < delivery.traces.size()) one.traces.push_back(delivery.traces[index]);
            one_offset = offset;
        } else {
            one.dead.push_back(*m.dead);
        }
        auto result = store_.apply_delivery(one, one_offset);
        if (!result && result.error().kind == StoreError::Kind::Fenced)
            return drop_fenced(delivery, result.error());
        if (!result && m.event && !result.error().retryable()) {
            one.events.clear();
            one.dead.push_back(dead_letter_of(*m.event, BusPosition{partition, m.offset},
                                              encode_event_(*m.event), result.error().message));
            result = store_.apply_delivery(one, {});
            if (result) {
                dead_failed_.inc();
                warn_parked(one.dead.back());
            }
        } else if (result) {
            record(*result, one.dead);
            log_applied(one, one_offset);
        }
        if (!result) {
            failures_.inc();
            return unexpected(result.error());
        }
    }
    // Past the end of the delivery, also where its last messages were none of the above.
    Delivery rest{{}, {}, delivery.position, delivery.in_order};
    rest.owner_epoch = delivery.owner_epoch;
    if (auto result = store_.apply_delivery(rest, {}); !result) {
        if (result.error().kind == StoreError::Kind::Fenced)
            return drop_fenced(delivery, result.error());
        failures_.inc();
        return unexpected(result.error());
    }
    return {};
}

Expected<void, StoreError> Projector::drop_fenced(const Delivery& delivery,
                                                  const StoreError& error) {
    fenced_.inc();
    bool first = false;
    {
        std::lock_guard lock(fenced_mu_);
        first = fenced_logged_.emplace(delivery.position.partition, delivery.owner_epoch).second;
    }
    if (first && warn_)
        warn_("projection of " + delivery.position.partition +
              " refused: another projector claimed the partition (" + error.message +
              "); this batch and any later one of it are dropped until the bus reassigns it, "
              "counted in ordinal_projection_fenced_batches_total");
    return {};
}

void Projector::record(const ProjectionResult& result, std::span<const DeadLetter> given) {
    applied_.inc(result.applied);
    skipped_.inc(result.skipped);
    dead_from_bus_.inc(given.size());
    for (const DeadLetter& d : given) warn_parked(d);
    dead_blocked_.inc(result.dead_lettered);
    if (gate_ && !result.advanced.empty()) gate_->notify(result.advanced);
}

void Projector::observe_lag(std::span<const Event> events) {
    observe_event_ages(lag_, events,
                       [](const Event& e) -> const std::string& { return e.occurred_at; });
}

void Projector::observe_received(std::span<const Event> events) {
    observe_event_ages(received_, events,
                       [](const Event& e) -> const std::string& { return e.occurred_at; });
}

void Projector::log_applied(const Delivery& delivery, std::span<const std::int64_t> offsets) {
    if (!applied_log_) return;
    for (std::size_t i = 0; i < delivery.events.size(); ++i) {
        const Event& e = delivery.events[i];
        std::string where = delivery.position.partition;
        if (i < offsets.size()) where.append("@").append(std::to_string(offsets[i]));
        LogRecord line;
        line.message = "projected " + std::string(event_type_name(e.data)) + " " +
                       std::string(stream_type_name(e.stream.type)) + "/" + e.stream.id +
                       " version " + std::to_string(e.version) + " (" + where + ")";
        if (i < delivery.traces.size()) line.trace_id = delivery.traces[i].trace_id();
        if (e.stream.type == StreamType::Order) line.order_id = e.stream.id;
        applied_log_(line);
    }
}

void Projector::warn_parked(const DeadLetter& d) {
    if (!warn_) return;
    warn_("projection parked " +
          (d.stream.empty() ? std::string("an unreadable message") : d.stream) +
          (d.version > 0 ? " at version " + std::to_string(d.version) : std::string()) + " (" +
          d.position.partition + "@" + std::to_string(d.position.offset) + "): " + d.reason +
          "; later events of the stream wait behind it until POST /v1/admin/dead-letters/retry");
}

}  // namespace ordinal
