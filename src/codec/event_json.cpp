// Over 400 lines for a reason: the envelope and every event type's payload, read and written in
// one place, so a field added to an event is added to both directions (and versions) together.
#include "codec/event_json.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>
#include <utility>

#include "codec/trace_context.h"

namespace ordinal {
namespace {

using json = nlohmann::json;

// Thrown inside this file only, and turned into an error value by the public decoders.
struct DecodeError {
    std::string message;
};

// Reads one JSON object strictly: every field must be present with the right type, and
// finish() rejects fields nobody asked for.
class ObjectReader {
  public:
    ObjectReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {
        if (!j_.is_object()) fail(where_ + " must be an object");
    }

    const json& field(const char* name) {
        const auto it = j_.find(name);
        if (it == j_.end()) fail(where_ + "." + name + " is missing");
        used_.emplace_back(name);
        return *it;
    }

    std::string string(const char* name) {
        const json& v = field(name);
        if (!v.is_string()) fail(path(name) + " must be a string");
        return v.get<std::string>();
    }

    std::int64_t integer(const char* name) { return as_integer(field(name), path(name)); }

    std::optional<std::int64_t> nullable_integer(const char* name) {
        const json& v = field(name);
        if (v.is_null()) return std::nullopt;
        return as_integer(v, path(name));
    }

    const json& array(const char* name) {
        const json& v = field(name);
        if (!v.is_array()) fail(path(name) + " must be an array");
        return v;
    }

    void finish() const {
        for (const auto& [key, value] : j_.items()) {
            if (std::find(used_.begin(), used_.end(), key) == used_.end())
                fail(where_ + "." + key + " is not a known field");
        }
    }

    std::string path(const char* name) const { return where_ + "." + name; }

    [[noreturn]] static void fail(std::string message) { throw DecodeError{std::move(message)}; }

    static std::int64_t as_integer(const json& v, const std::string& where) {
        // Floats are rejected even when integral: producers of events never write them.
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                fail(where + " does not fit a signed 64-bit integer");
            }
            return static_cast<std::int64_t>(u);
        }
        if (!v.is_number_integer()) fail(where + " must be an integer");
        return v.get<std::int64_t>();
    }

  private:
    const json& j_;
    std::string where_;
    // The field names asked for (string literals): a handful per object, searched in order; a
    // set of strings cost an allocation per field of every event the projector decodes.
    std::vector<std::string_view> used_;
};

json nullable(const std::optional<std::int64_t>& v) {
    return v ? json(*v) : json(nullptr);
}

// ---- encoding -------------------------------------------------------------------------------

json lines_to_json(const std::vector<OrderLine>& lines) {
    json out = json::array();
    for (const OrderLine& l : lines) {
        out.push_back(json{{"sku", l.sku}, {"qty", l.qty}, {"unitPriceMinor", l.unit_price_minor}});
    }
    return out;
}

json stock_changes_to_json(const std::vector<StockChange>& changes) {
    json out = json::array();
    for (const StockChange& c : changes) {
        out.push_back(
            json{{"sku", c.sku}, {"stock", nullable(c.stock)}, {"stockSeq", c.stock_seq}});
    }
    return out;
}

json data_to_json(const ProductUpserted& d) {
    return json{{"sku", d.sku},
                {"name", d.name},
                {"currency", d.currency},
                {"priceMinor", d.price_minor},
                {"stock", nullable(d.stock)},
                {"stockSeq", d.stock_seq}};
}
json data_to_json(const OrderPlaced& d) {
    return json{{"userId", d.user_id},
                {"currency", d.currency},
                {"items", lines_to_json(d.items)},
                {"totalMinor", d.total_minor},
                {"stockChanges", stock_changes_to_json(d.stock_changes)}};
}
json data_to_json(const OrderPaid& d) {
    return json{{"paymentRef", d.payment_ref}, {"amountMinor", d.amount_minor}};
}
json data_to_json(const OrderShipped&) {
    return json::object();
}
json data_to_json(const OrderCancelled& d) {
    return json{
        {"reason", d.reason},
        {"cancelledFrom", d.cancelled_from ? json(std::string(order_status_name(*d.cancelled_from)))
                                           : json(nullptr)},
        {"stockChanges", stock_changes_to_json(d.stock_changes)}};
}

json data_to_json(const EventData& data) {
    return std::visit([](const auto& d) { return data_to_json(d); }, data);
}

// Domain strings are validated UTF-8; `replace` only keeps dump() from throwing if one is not.
std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The create-order path's JSON written straight into a string: byte for byte what dump() of the
// trees above gives (an object's keys in nlohmann's sorted order, strings escaped by nlohmann),
// without building the trees of maps, which cost more than the statements that store them (the
// lines are written twice per order, write model and read model).
void append_string(std::string& out, std::string_view s) {
    // Printable ASCII without quote or backslash, what ids, skus, times and types are, is
    // written as it is (byte for byte what nlohmann writes for it); anything else goes through
    // nlohmann's escaping.
    const bool plain = std::all_of(
        s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) {
        out += dump(json(std::string(s)));
        return;
    }
    out += '"';
    out += s;
    out += '"';
}
void append_lines(std::string& out, const std::vector<OrderLine>& lines) {
    out += '[';
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) out += ',';
        out += R"({"qty":)";
        out += std::to_string(lines[i].qty);
        out += R"(,"sku":)";
        append_string(out, lines[i].sku);
        out += R"(,"unitPriceMinor":)";
        out += std::to_string(lines[i].unit_price_minor);
        out += '}';
    }
    out += ']';
}
std::string placed_text(const OrderPlaced& d) {
    std::string out = R"({"currency":)";
    append_string(out, d.currency);
    out += R"(,"items":)";
    append_lines(out, d.items);
    out += R"(,"stockChanges":[)";
    for (std::size_t i = 0; i < d.stock_changes.size(); ++i) {
        const StockChange& c = d.stock_changes[i];
        if (i > 0) out += ',';
        out += R"({"sku":)";
        append_string(out, c.sku);
        out += R"(,"stock":)";
        out += c.stock ? std::to_string(*c.stock) : std::string("null");
        out += R"(,"stockSeq":)";
        out += std::to_string(c.stock_seq);
        out += '}';
    }
    out += R"(],"totalMinor":)";
    out += std::to_string(d.total_minor);
    out += R"(,"userId":)";
    append_string(out, d.user_id);
    out += '}';
    return out;
}

// The envelope's fields, as text where they are strings and `data` as JSON text.
struct EnvelopeFields {
    std::string_view causation_id;
    std::string_view data;
    std::string_view event_id;
    std::string_view occurred_at;
    std::int64_t schema_version;
    std::string_view stream_id;
    std::string_view stream_type;
    std::string_view type;
    std::int64_t version;
};

// {causationId,data,eventId,occurredAt,schemaVersion,streamId,streamType,type,version}, in
// nlohmann's sorted key order, `data` as given.
std::string envelope_text(const EnvelopeFields& f) {
    std::string out;
    out.reserve(f.data.size() + 256);
    out += R"({"causationId":)";
    append_string(out, f.causation_id);
    out += R"(,"data":)";
    out += f.data;
    out += R"(,"eventId":)";
    append_string(out, f.event_id);
    out += R"(,"occurredAt":)";
    append_string(out, f.occurred_at);
    out += R"(,"schemaVersion":)";
    out += std::to_string(f.schema_version);
    out += R"(,"streamId":)";
    append_string(out, f.stream_id);
    out += R"(,"streamType":)";
    append_string(out, f.stream_type);
    out += R"(,"type":)";
    append_string(out, f.type);
    out += R"(,"version":)";
    out += std::to_string(f.version);
    out += '}';
    return out;
}

// ---- decoding -------------------------------------------------------------------------------

// Each object of `arr` read strictly by `read_one`, its errors placed at where[i].
template <class ReadOne>
auto objects_from_json(const json& arr, const std::string& where, ReadOne read_one) {
    std::vector<std::invoke_result_t<ReadOne, ObjectReader&>> out;
    out.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
        ObjectReader r(arr[i], where + "[" + std::to_string(i) + "]");
        out.push_back(read_one(r));
        r.finish();
    }
    return out;
}

std::vector<OrderLine> lines_from_json(const json& arr, const std::string& where) {
    return objects_from_json(arr, where, [](ObjectReader& r) {
        OrderLine l;
        l.sku = r.string("sku");
        l.qty = r.integer("qty");
        l.unit_price_minor = r.integer("unitPriceMinor");
        return l;
    });
}

std::vector<StockChange> stock_changes_from_json(const json& arr, const std::string& where) {
    return objects_from_json(arr, where, [](ObjectReader& r) {
        StockChange c;
        c.sku = r.string("sku");
        c.stock = r.nullable_integer("stock");
        c.stock_seq = r.integer("stockSeq");
        return c;
    });
}

EventData data_from_json(std::string_view type, const json& j) {
    ObjectReader r(j, "data");
    EventData out;
    if (type == "ProductUpserted") {
        ProductUpserted d;
        d.sku = r.string("sku");
        d.name = r.string("name");
        d.currency = r.string("currency");
        d.price_minor = r.integer("priceMinor");
        d.stock = r.nullable_integer("stock");
        d.stock_seq = r.integer("stockSeq");
        out = std::move(d);
    } else if (type == "OrderPlaced") {
        OrderPlaced d;
        d.user_id = r.string("userId");
        d.currency = r.string("currency");
        d.items = lines_from_json(r.array("items"), r.path("items"));
        d.total_minor = r.integer("totalMinor");
        d.stock_changes = stock_changes_from_json(r.array("stockChanges"), r.path("stockChanges"));
        out = std::move(d);
    } else if (type == "OrderPaid") {
        OrderPaid d;
        d.payment_ref = r.string("paymentRef");
        d.amount_minor = r.integer("amountMinor");
        out = std::move(d);
    } else if (type == "OrderShipped") {
        out = OrderShipped{};
    } else if (type == "OrderCancelled") {
        OrderCancelled d;
        d.reason = r.string("reason");
        if (const json& from = r.field("cancelledFrom"); !from.is_null()) {
            const auto status =
                from.is_string() ? parse_order_status(from.get<std::string>()) : std::nullopt;
            if (!status) ObjectReader::fail(r.path("cancelledFrom") + " must be an order status");
            d.cancelled_from = *status;
        }
        d.stock_changes = stock_changes_from_json(r.array("stockChanges"), r.path("stockChanges"));
        out = std::move(d);
    } else {
        ObjectReader::fail("unknown event type '" + std::string(type) + "'");
    }
    r.finish();
    return out;
}

// ---- schema evolution ----------------------------------------------------------------------
// The upcaster chain: one step per (type, version), turning the data of `type` stored at
// `from` into the shape of version from + 1. A stored event is upcast step by step up to the
// version this build writes (schema_version_of), then decoded strictly as that shape. A step
// reshapes JSON from the event alone: it never needs another event or a store. A new version
// of a type adds its step here and bumps schema_version_of (domain/decisions.cpp);
// EventJson.EveryTypeHasAChainToTheVersionItWrites checks that the two agree.
struct Upcaster {
    std::string_view type;
    int from;
    void (*step)(json& data);
};
const Upcaster kUpcasters[] = {
    // OrderCancelled 1 -> 2: `cancelledFrom` added. Version 1 did not record it: null, "not
    // recorded", never a guess.
    {"OrderCancelled", 1,
     [](json& d) {
         if (d.contains("cancelledFrom"))
             ObjectReader::fail("data.cancelledFrom is not a field of version 1");
         d["cancelledFrom"] = nullptr;
     }},
};

// The version this build writes for `type`, or nullopt for a type it does not know.
std::optional<int> written_version(std::string_view type) {
    static const EventData kEach[] = {ProductUpserted{}, OrderPlaced{}, OrderPaid{}, OrderShipped{},
                                      OrderCancelled{}};
    for (const EventData& d : kEach) {
        if (event_type_name(d) == type) return schema_version_of(d);
    }
    return std::nullopt;
}

// Why this build cannot read `type` at `schema` (empty when it can). An unknown type is left to
// the decoder, which names it.
std::string unsupported_version(std::string_view type, std::int64_t schema) {
    const auto written = written_version(type);
    if (!written || (schema >= kOldestEventSchemaVersion && schema <= *written)) return {};
    return "schema version " + std::to_string(schema) +
           " is not supported by this build (it reads " + std::string(type) + " " +
           std::to_string(kOldestEventSchemaVersion) + " to " + std::to_string(*written) + ")";
}

// `data` stored at `schema` (checked by unsupported_version) into the shape this build writes.
void upcast(std::string_view type, std::int64_t schema, json& data) {
    const auto written = written_version(type);
    if (!written || !data.is_object()) return;  // the strict decoder says what is wrong
    for (std::int64_t v = schema; v < *written; ++v) {
        const Upcaster* step = nullptr;
        for (const Upcaster& u : kUpcasters) {
            if (u.type == type && u.from == v) step = &u;
        }
        if (!step) {
            ObjectReader::fail("no upcaster for " + std::string(type) + " version " +
                               std::to_string(v));
        }
        step->step(data);
    }
}

json parse(std::string_view text) {
    // allow_exceptions = false: a parse error yields a "discarded" value instead of throwing.
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) ObjectReader::fail("not valid JSON");
    return j;
}

// Runs a decoder, turning every failure (ours or the JSON library's) into an error value.
template <class F>
auto guarded(F&& decode) -> Expected<decltype(decode()), std::string> {
    try {
        return decode();
    } catch (const DecodeError& e) {
        return unexpected(e.message);
    } catch (const std::exception& e) {
        return unexpected(std::string("invalid JSON: ") + e.what());
    }
}

}  // namespace

std::string encode_event_data(const EventData& data) {
    // dump(data_to_json(data)); the create-order path's event without the tree.
    if (const auto* placed = std::get_if<OrderPlaced>(&data)) return placed_text(*placed);
    return dump(data_to_json(data));
}

Expected<EventData, std::string> decode_event_data(std::string_view type, std::string_view text,
                                                   int schema_version) {
    return guarded([&] {
        json data = parse(text);
        if (schema_version != 0) {
            if (auto why = unsupported_version(type, schema_version); !why.empty())
                ObjectReader::fail(why);
            upcast(type, schema_version, data);
        }
        return data_from_json(type, data);
    });
}

std::string encode_event_envelope(const Event& e) {
    // Written straight into a string, byte for byte what dump() of the envelope's tree gives
    // (keys in nlohmann's sorted order), as placed_text: the relay encodes every event it sends,
    // and the tree of maps cost more than the rest of its work on an event.
    return envelope_text(EnvelopeFields{e.causation_id, encode_event_data(e.data), e.event_id,
                                        e.occurred_at, schema_version_of(e.data), e.stream.id,
                                        stream_type_name(e.stream.type), event_type_name(e.data),
                                        e.version});
}

Expected<Event, std::string> decode_event_envelope(std::string_view text) {
    return guarded([&] {
        const json j = parse(text);
        ObjectReader r(j, "event");
        Event e;
        e.event_id = r.string("eventId");
        const std::string type = r.string("type");
        const std::string stream_type = r.string("streamType");
        const auto parsed_type = parse_stream_type(stream_type);
        if (!parsed_type)
            ObjectReader::fail("event.streamType '" + stream_type + "' is not product or order");
        e.stream.type = *parsed_type;
        e.stream.id = r.string("streamId");
        e.version = r.integer("version");
        if (e.version < 1) ObjectReader::fail("event.version must be at least 1");
        e.occurred_at = r.string("occurredAt");
        e.causation_id = r.string("causationId");
        const std::int64_t schema = r.integer("schemaVersion");
        if (auto why = unsupported_version(type, schema); !why.empty())
            ObjectReader::fail("event.schemaVersion: " + why);
        e.schema_version = static_cast<int>(schema);
        json data = r.field("data");
        upcast(type, schema, data);
        e.data = data_from_json(type, data);
        if (stream_type_of(e.data) != e.stream.type) {
            ObjectReader::fail("event type " + type + " does not belong to a " + stream_type +
                               " stream");
        }
        r.finish();
        return e;
    });
}

namespace {

// What an outbox row says without decoding its data: seq, the event's id, stream id, version,
// times and stored schema version, and its trace context.
StoredEvent undecoded_row(const OutboxRow& row) {
    StoredEvent out;
    out.seq = row.seq;
    Event& e = out.event;
    e.event_id = row.event_id;
    e.stream.id = row.stream_id;
    e.version = row.version;
    e.occurred_at = row.occurred_at;
    e.causation_id = row.causation_id;
    e.schema_version = static_cast<int>(row.schema_version);
    // Stored by this service, but a damaged value must not go out as a header.
    if (parse_traceparent(row.traceparent))
        out.trace = TraceContext{row.traceparent, row.tracestate};
    return out;
}

}  // namespace

StoredEvent outbox_row_as_stored(const OutboxRow& row) {
    StoredEvent out = undecoded_row(row);
    if (const auto stream_type = parse_stream_type(row.stream_type))
        out.event.stream.type = *stream_type;
    out.as_stored = StoredEvent::AsStored{
        row.stream_type, row.type,
        envelope_text(EnvelopeFields{row.causation_id, row.data, row.event_id, row.occurred_at,
                                     row.schema_version, row.stream_id, row.stream_type, row.type,
                                     row.version})};
    return out;
}

StoredEvent decode_outbox_row(const OutboxRow& row) {
    StoredEvent out = undecoded_row(row);
    Event& e = out.event;
    std::string reason;
    const auto stream_type = parse_stream_type(row.stream_type);
    if (!stream_type) {
        reason = "unknown stream type '" + row.stream_type + "'";
    } else if (auto why = unsupported_version(row.type, row.schema_version); !why.empty()) {
        reason = std::move(why);
    } else {
        e.stream.type = *stream_type;
        auto data = guarded([&] {
            json stored = parse(row.data);
            upcast(row.type, row.schema_version, stored);
            return data_from_json(row.type, stored);
        });
        if (!data) {
            reason = data.error();
        } else if (stream_type_of(*data) != *stream_type) {
            reason =
                "event type " + row.type + " does not belong to a " + row.stream_type + " stream";
        } else {
            e.data = std::move(*data);
            return out;
        }
    }
    // The envelope keeps the data as stored (as text if it is not even JSON), so a retry by a
    // build that knows the type decodes exactly what was written.
    json data = json::parse(row.data.begin(), row.data.end(), nullptr, false);
    if (data.is_discarded()) data = row.data;
    const json envelope{{"eventId", row.event_id},
                        {"type", row.type},
                        {"streamType", row.stream_type},
                        {"streamId", row.stream_id},
                        {"version", row.version},
                        {"occurredAt", row.occurred_at},
                        {"causationId", row.causation_id},
                        {"schemaVersion", row.schema_version},
                        {"data", data}};
    out.undecoded = StoredEvent::Undecoded{
        row.stream_type + "/" + row.stream_id, row.type, dump(envelope),
        "event seq " + std::to_string(row.seq) + " cannot be decoded: " + reason};
    return out;
}

std::string encode_order_lines(const std::vector<OrderLine>& lines) {
    std::string out;
    append_lines(out, lines);  // dump(lines_to_json(lines)), without the tree
    return out;
}

Expected<std::vector<OrderLine>, std::string> decode_order_lines(std::string_view text) {
    return guarded([&] {
        const json j = parse(text);
        if (!j.is_array()) ObjectReader::fail("order lines must be an array");
        return lines_from_json(j, "lines");
    });
}

}  // namespace ordinal
