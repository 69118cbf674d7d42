// GET /console/{file}: the operations console's static files (docs/console.md); GET
// /v1/admin/streams/{type}/{id} and /v1/admin/consistency?token=: the two admin views it reads
// besides /metrics, /v1/admin/status and the dead letters.
#include <algorithm>

#include "adapters/http/error_mapping.h"
#include "adapters/http/request_handler.h"
#include "adapters/http/static_files.h"
#include "codec/console_json.h"
#include "domain/uuid.h"
#include "domain/validation.h"
#include "ports/batch_times.h"

namespace ordinal {
namespace {

constexpr std::size_t kMaxStreamEvents = 1000;
// How much earlier than an event's commit (write store's clock) the batch that applied it may
// seem to have committed (the projector's clock): clocks of two machines differ.
constexpr std::int64_t kClockSkewMs = 60'000;

// "order/<uuid>" or "product/<sku>", the stream's id canonical; nullopt: names no stream.
std::optional<StreamKey> parse_stream_param(std::string_view param) {
    const auto slash = param.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto type = parse_stream_type(param.substr(0, slash));
    const std::string id(param.substr(slash + 1));
    if (!type) return std::nullopt;
    if (*type == StreamType::Product) {
        if (check_sku(id)) return std::nullopt;
        return StreamKey{*type, id};
    }
    auto canon = canonical_uuid(id);
    if (!canon) return std::nullopt;
    return StreamKey{*type, std::move(*canon)};
}

}  // namespace

void RequestHandler::handle_console(const RouteMatch& route, const Respond& respond) {
    if (api_.console_dir.empty()) return respond(not_found("this process serves no console"));
    const auto name = console_file_name(route.param);
    const auto type = name ? static_content_type(*name) : std::nullopt;
    if (!type) return respond(not_found("no such console file"));
    blocking(respond, [this, name = *name, type = std::string(*type)] {
        auto body = read_static_file(api_.console_dir, name);
        if (!body) return not_found("no such console file");
        HttpAnswer a;
        a.content_type = type;
        a.body = std::move(*body);
        // The files change with the binary: revalidate rather than run a stale console.
        a.headers.emplace_back("Cache-Control", "no-cache");
        a.headers.emplace_back("X-Content-Type-Options", "nosniff");
        return a;
    });
}

void RequestHandler::handle_admin_stream(const RouteMatch& route, const Respond& respond) {
    const auto stream = parse_stream_param(route.param);
    if (!stream) return respond(not_found("no such stream"));
    if (!api_.stream_log || !api_.reads)
        return respond(not_found("this process reads no stream log"));
    blocking(respond, [this, stream = *stream] {
        auto events = api_.stream_log(stream, kMaxStreamEvents);
        if (!events) return store_unavailable(events.error());
        auto read = api_.reads->stream_version(stream);
        if (!read) return store_unavailable(read.error());
        if (events->empty() && *read == 0) return not_found("no such stream");
        if (!events->empty()) {
            // Projection batches from the oldest event shown on, but not before the newest
            // one's time less the kept hour: older batch times are gone anyway.
            const std::int64_t since =
                std::max(events->front().created_ms, events->back().created_ms - kBatchTimesKeptMs);
            auto applied = api_.reads->stream_apply_times(stream, since - kClockSkewMs);
            if (!applied) return store_unavailable(applied.error());
            for (StreamLogEntry& e : *events) {
                if (e.version <= *read) e.applied_ms = applied_time_of(e.version, *applied);
            }
        }
        StreamView view;
        view.stream = stream;
        view.read_version = *read;
        view.write_version = events->empty() ? 0 : events->back().version;
        view.events = std::move(*events);
        return json_answer(200, write_stream_view_json(view));
    });
}

void RequestHandler::handle_token_check(std::string_view query, const Respond& respond) {
    bool malformed = false;
    const auto text = query_param(query, "token", malformed);
    const auto wanted = text && !malformed ? parse_consistency_tokens(*text) : std::nullopt;
    if (!wanted) {
        return respond(validation_failed("invalid query parameters",
                                         {{"token", "must be a consistency token"}}));
    }
    if (!api_.reads) return respond(not_found("this process reads no read model"));
    blocking(respond, [this, wanted = *wanted] {
        TokenCheck check;
        check.passes = true;
        for (const auto& [stream, version] : wanted) {
            auto have = api_.reads->stream_version(stream);
            if (!have) return store_unavailable(have.error());
            check.streams.push_back({stream, version, *have});
            check.passes = check.passes && *have >= version;
        }
        return json_answer(200, write_token_check_json(check));
    });
}

}  // namespace ordinal
