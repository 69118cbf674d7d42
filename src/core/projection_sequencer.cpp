#include "core/projection_sequencer.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "ports/write_transaction.h"

namespace ordinal {
namespace {

[[noreturn]] void reject(std::string message) {
    throw StoreFailure(StoreError{StoreError::Kind::Internal, std::move(message)});
}

void check_stream_type(const Event& e) {
    if (stream_type_of(e.data) != e.stream.type) {
        reject("projection: " + std::string(event_type_name(e.data)) + " on stream " +
               describe_stream(e.stream));
    }
}

enum class Mode { Strict, Delivery, OrderedDelivery, Retry };

// Dead-letters events[index] with a reason.
using Keep = std::function<void(std::size_t index, const std::string& reason)>;

std::string waiting_reason(const Event& e, std::int64_t applied,
                           std::optional<std::int64_t> blocker) {
    const std::string stream = describe_stream(e.stream);
    if (blocker && *blocker == 0)
        return "waiting behind a dead letter of unknown version of " + stream;
    if (blocker && *blocker < e.version) {
        return "waiting behind dead-lettered version " + std::to_string(*blocker) + " of " + stream;
    }
    return "waiting for version " + std::to_string(applied + 1) + " of " + stream;
}

// Applies a retried event alone: if it fails for good, only its own writes are undone.
bool apply_or_keep(ProjectionTransaction& tx, const Event& e, std::size_t index, const Keep& keep) {
    tx.savepoint();
    try {
        check_stream_type(e);
        tx.apply(e);
    } catch (const StoreFailure& f) {
        if (f.error.retryable()) throw;
        tx.rollback_to_savepoint();
        keep(index, f.error.message);
        return false;
    }
    tx.release_savepoint();
    return true;
}

ProjectionResult sequence(std::span<const Event> events, Mode mode, ProjectionTransaction& tx,
                          const Keep& keep) {
    ProjectionResult result;
    std::map<StreamKey, std::int64_t> applied;        // per stream of this batch, as it advances
    std::map<StreamKey, std::size_t> advanced_index;  // position in result.advanced
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        if (mode != Mode::Retry) check_stream_type(e);
        auto it = applied.find(e.stream);
        if (it == applied.end()) it = applied.emplace(e.stream, tx.applied_version(e.stream)).first;
        const std::int64_t have = it->second;
        if (e.version <= have) {
            ++result.skipped;
            continue;
        }
        if (e.version != have + 1) {
            const auto gap = [&] {
                reject("projection: gap in stream " + describe_stream(e.stream) + ": applied " +
                       std::to_string(have) + ", got version " + std::to_string(e.version));
            };
            if (mode == Mode::Strict) gap();
            const auto blocker = tx.lowest_dead_letter(e.stream, have);
            if (!blocker && mode == Mode::OrderedDelivery) gap();
            if (!blocker && mode == Mode::Delivery) {
                ++result.skipped;
                continue;
            }
            keep(i, waiting_reason(e, have, blocker));
            ++result.dead_lettered;
            continue;
        }
        if (mode == Mode::Retry) {
            if (!apply_or_keep(tx, e, i, keep)) {
                ++result.dead_lettered;
                continue;
            }
        } else {
            tx.apply(e);
        }
        it->second = e.version;
        ++result.applied;
        const auto [adv, inserted] = advanced_index.emplace(e.stream, result.advanced.size());
        if (inserted) {
            result.advanced.emplace_back(e.stream, e.version);
        } else {
            result.advanced[adv->second].second = e.version;
        }
    }
    return result;
}

}  // namespace

DeadLetter dead_letter_of(const Event& event, BusPosition position, std::string payload,
                          std::string reason) {
    DeadLetter d;
    d.position = std::move(position);
    d.stream = describe_stream(event.stream);
    d.version = event.version;
    d.event_type = std::string(event_type_name(event.data));
    d.payload = std::move(payload);
    d.reason = std::move(reason);
    return d;
}

ProjectionResult sequence_events(std::span<const Event> events, ProjectionTransaction& tx) {
    return sequence(events, Mode::Strict, tx, {});
}

ProjectionResult sequence_delivery(const Delivery& delivery, std::span<const std::int64_t> offsets,
                                   ProjectionTransaction& tx, const EventEncoder& encode) {
    if (offsets.size() != delivery.events.size()) {
        reject("projection: a delivery of " + std::to_string(delivery.events.size()) +
               " events came with " + std::to_string(offsets.size()) + " offsets");
    }
    for (const DeadLetter& d : delivery.dead) tx.insert_dead_letter(d);
    return sequence(
        delivery.events, delivery.in_order ? Mode::OrderedDelivery : Mode::Delivery, tx,
        [&](std::size_t i, const std::string& reason) {
            const Event& e = delivery.events[i];
            tx.insert_dead_letter(dead_letter_of(
                e, BusPosition{delivery.position.partition, offsets[i]}, encode(e), reason));
        });
}

DeadLetterRetry sequence_retry(std::vector<RetryRow> rows, ProjectionTransaction& tx) {
    DeadLetterRetry out;
    out.retried = static_cast<std::int64_t>(rows.size());
    std::vector<std::pair<std::int64_t, Event>> decoded;
    for (RetryRow& row : rows) {
        if (row.event) {
            decoded.emplace_back(row.id, std::move(*row.event));
        } else {
            tx.update_dead_letter_reason(row.id, "undecodable: " + row.event.error());
        }
    }
    std::sort(decoded.begin(), decoded.end(), [](const auto& a, const auto& b) {
        return std::tie(a.second.stream, a.second.version, a.first) <
               std::tie(b.second.stream, b.second.version, b.first);
    });
    std::vector<Event> events;
    events.reserve(decoded.size());
    for (auto& [id, e] : decoded) events.push_back(std::move(e));
    std::vector<bool> kept(events.size(), false);
    const ProjectionResult result =
        sequence(events, Mode::Retry, tx, [&](std::size_t i, const std::string& reason) {
            tx.update_dead_letter_reason(decoded[i].first, reason);
            kept[i] = true;
        });
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (kept[i]) continue;
        tx.delete_dead_letter(decoded[i].first);
        ++out.applied;
    }
    out.remaining = out.retried - out.applied;
    out.advanced = result.advanced;
    return out;
}

namespace {

class SequencerRules final : public ProjectionRules {
  public:
    ProjectionResult sequence_events(std::span<const Event> events,
                                     ProjectionTransaction& tx) const override {
        return ordinal::sequence_events(events, tx);
    }
    ProjectionResult sequence_delivery(const Delivery& delivery,
                                       std::span<const std::int64_t> offsets,
                                       ProjectionTransaction& tx,
                                       const EventEncoder& encode) const override {
        return ordinal::sequence_delivery(delivery, offsets, tx, encode);
    }
    DeadLetterRetry sequence_retry(std::vector<RetryRow> rows,
                                   ProjectionTransaction& tx) const override {
        return ordinal::sequence_retry(std::move(rows), tx);
    }
};

}  // namespace

const ProjectionRules& projection_rules() {
    static const SequencerRules rules;
    return rules;
}

}  // namespace ordinal
