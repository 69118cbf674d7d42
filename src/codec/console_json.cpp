#include "codec/console_json.h"

#include "codec/strict_json_reader.h"
#include "domain/time_format.h"

namespace ordinal {
namespace {

using ojson = nlohmann::ordered_json;

std::string stream_name(const StreamKey& s) {
    return std::string(stream_type_name(s.type)) + "/" + s.id;
}

}  // namespace

std::string write_stream_view_json(const StreamView& view) {
    ojson events = ojson::array();
    for (const StreamLogEntry& e : view.events) {
        events.push_back(ojson{{"seq", e.seq},
                               {"eventId", e.event_id},
                               {"version", e.version},
                               {"type", e.type},
                               {"occurredAt", e.occurred_at},
                               {"committedAt", format_rfc3339_ms(e.created_ms)},
                               {"published", e.published},
                               {"applied", e.version <= view.read_version}});
    }
    return dump_json(ojson{{"stream", stream_name(view.stream)},
                           {"writeVersion", view.write_version},
                           {"readVersion", view.read_version},
                           {"events", std::move(events)}});
}

std::string write_token_check_json(const TokenCheck& check) {
    ojson streams = ojson::array();
    for (const auto& s : check.streams) {
        streams.push_back(ojson{{"stream", stream_name(s.stream)},
                                {"wanted", s.wanted},
                                {"readVersion", s.read_version},
                                {"passes", s.read_version >= s.wanted}});
    }
    return dump_json(ojson{{"passes", check.passes}, {"streams", std::move(streams)}});
}

}  // namespace ordinal
