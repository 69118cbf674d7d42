#include "codec/batch_streams.h"

#include <charconv>

namespace ordinal {

std::string encode_batch_streams(std::span<const std::pair<StreamKey, std::int64_t>> advanced) {
    std::string out;
    out.reserve(advanced.size() * 48);
    for (const auto& [stream, version] : advanced) {
        out += batch_streams_needle(stream);
        out += std::to_string(version);
    }
    out += '\n';
    return out;
}

std::string batch_streams_needle(const StreamKey& stream) {
    return "\n" + describe_stream(stream) + " ";
}

std::optional<std::int64_t> batch_stream_version(std::string_view streams,
                                                 const StreamKey& stream) {
    const std::string needle = batch_streams_needle(stream);
    const auto at = streams.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    const char* first = streams.data() + at + needle.size();
    const char* last = streams.data() + streams.size();
    std::int64_t version = 0;
    const auto [end, err] = std::from_chars(first, last, version);
    if (err != std::errc() || end == first) return std::nullopt;
    return version;
}

}  // namespace ordinal
