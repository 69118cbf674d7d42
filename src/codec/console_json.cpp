#include "codec/console_json.h"

#include "codec/strict_json_reader.h"
#include "domain/time_format.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

using ojson = nlohmann::ordered_json;

std::string stream_name(const StreamKey& s) {
    return std::string(stream_type_name(s.type)) + "/" + s.id;
}

ojson time_or_null(const std::optional<std::int64_t>& unix_ms) {
    return unix_ms ? ojson(format_rfc3339_ms(*unix_ms)) : ojson(nullptr);
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
                               {"publishedAt", time_or_null(e.published_ms)},
                               {"applied", e.version <= view.read_version},
                               {"appliedAt", time_or_null(e.applied_ms)}});
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

namespace ordinal {

Expected<std::string, std::vector<FieldError>> read_discard_body(std::string_view body) {
    auto parsed = parse_strict_json(body);
    if (!parsed) return unexpected(std::vector<FieldError>{{"body", parsed.error()}});
    if (!parsed->is_object())
        return unexpected(std::vector<FieldError>{{"body", "must be a JSON object"}});
    std::vector<FieldError> errors;
    for (const auto& [name, value] : parsed->items()) {
        if (name != "reason") errors.push_back({name, "is not a field of this request"});
        if (errors.size() >= 10) break;
    }
    const auto reason = parsed->find("reason");
    if (reason == parsed->end()) {
        errors.push_back({"reason", "is required: say why the dead letter is discarded"});
    } else if (!reason->is_string()) {
        errors.push_back({"reason", "must be a string"});
    } else if (auto bad = check_reason(reason->get_ref<const std::string&>())) {
        errors.push_back({"reason", *bad});
    }
    if (!errors.empty()) return unexpected(std::move(errors));
    return reason->get<std::string>();
}

}  // namespace ordinal
