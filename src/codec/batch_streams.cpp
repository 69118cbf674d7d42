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

std::optional<std::vector<std::pair<StreamKey, std::int64_t>>> decode_batch_streams(
    std::string_view text) {
    if (text.size() < 2 || text.front() != '\n' || text.back() != '\n') return std::nullopt;
    std::vector<std::pair<StreamKey, std::int64_t>> out;
    std::size_t at = 1;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        const std::string_view line = text.substr(at, end - at);
        at = end + 1;
        const auto slash = line.find('/');
        const auto space = line.rfind(' ');
        if (slash == std::string_view::npos || space == std::string_view::npos ||
            space <= slash + 1)
            return std::nullopt;
        const auto type = parse_stream_type(line.substr(0, slash));
        std::int64_t version = 0;
        const char* first = line.data() + space + 1;
        const char* last = line.data() + line.size();
        const auto [stop, err] = std::from_chars(first, last, version);
        if (!type || err != std::errc() || stop != last || first == last) return std::nullopt;
        out.emplace_back(StreamKey{*type, std::string(line.substr(slash + 1, space - slash - 1))},
                         version);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

}  // namespace ordinal
