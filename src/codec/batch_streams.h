#pragma once
// The streams a projection batch advanced, as the read stores keep them in
// projection_batches.streams (ports/batch_times.h): one line per stream, "<type>/<id> <version>",
// each line preceded by a newline, so the text holding a stream is found by the store with a
// plain substring search for batch_streams_needle() (stream ids hold no space or newline: an
// order id is a UUID, a sku [A-Za-z0-9._-]). Pure functions, thread-safe.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "domain/stream.h"

namespace ordinal {

std::string encode_batch_streams(std::span<const std::pair<StreamKey, std::int64_t>> advanced);

// "\n<type>/<id> ": what a batch's text holds when it advanced `stream`.
std::string batch_streams_needle(const StreamKey& stream);

// The version the batch left `stream` at, or nullopt if it did not advance it.
std::optional<std::int64_t> batch_stream_version(std::string_view streams, const StreamKey& stream);

}  // namespace ordinal
