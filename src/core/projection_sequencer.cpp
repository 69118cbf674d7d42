#include "core/projection_sequencer.h"

#include <map>

#include "ports/write_transaction.h"

namespace ordinal {
namespace {

[[noreturn]] void reject(std::string message) {
    throw StoreFailure(StoreError{StoreError::Kind::Internal, std::move(message)});
}

}  // namespace

std::string describe_stream(const StreamKey& stream) {
    return std::string(stream_type_name(stream.type)) + "/" + stream.id;
}

ProjectionResult sequence_events(std::span<const Event> events,
                                 const std::function<std::int64_t(const StreamKey&)>& applied_version,
                                 const std::function<void(const Event&)>& apply) {
    ProjectionResult result;
    std::map<StreamKey, std::int64_t> applied;        // per stream of this batch, as it advances
    std::map<StreamKey, std::size_t> advanced_index;  // position in result.advanced
    for (const Event& e : events) {
        if (stream_type_of(e.data) != e.stream.type) {
            reject("projection: " + std::string(event_type_name(e.data)) + " on stream " + describe_stream(e.stream));
        }
        auto it = applied.find(e.stream);
        if (it == applied.end()) it = applied.emplace(e.stream, applied_version(e.stream)).first;
        const std::int64_t have = it->second;
        if (e.version <= have) {
            ++result.skipped;
            continue;
        }
        if (e.version != have + 1) {
            reject("projection: gap in stream " + describe_stream(e.stream) + ": applied " + std::to_string(have) +
                   ", got version " + std::to_string(e.version));
        }
        apply(e);
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

}  // namespace ordinal
