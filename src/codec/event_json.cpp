// Over 400 lines for a reason: the envelope and every event type's payload, read and written in
// one place, so a field added to an event is added to both directions (and versions) together.
#include "codec/event_json.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
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
        used_.insert(name);
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
            if (!used_.count(key)) fail(where_ + "." + key + " is not a known field");
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
    std::set<std::string> used_;
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
    return json{{"reason", d.reason}, {"stockChanges", stock_changes_to_json(d.stock_changes)}};
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
void append_string(std::string& out, const std::string& s) {
    out += dump(json(s));
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

// ---- decoding -------------------------------------------------------------------------------

std::vector<OrderLine> lines_from_json(const json& arr, const std::string& where) {
    std::vector<OrderLine> out;
    out.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
        ObjectReader r(arr[i], where + "[" + std::to_string(i) + "]");
        OrderLine l;
        l.sku = r.string("sku");
        l.qty = r.integer("qty");
        l.unit_price_minor = r.integer("unitPriceMinor");
        r.finish();
        out.push_back(std::move(l));
    }
    return out;
}

std::vector<StockChange> stock_changes_from_json(const json& arr, const std::string& where) {
    std::vector<StockChange> out;
    out.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
        ObjectReader r(arr[i], where + "[" + std::to_string(i) + "]");
        StockChange c;
        c.sku = r.string("sku");
        c.stock = r.nullable_integer("stock");
        c.stock_seq = r.integer("stockSeq");
        r.finish();
        out.push_back(std::move(c));
    }
    return out;
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
        d.stock_changes = stock_changes_from_json(r.array("stockChanges"), r.path("stockChanges"));
        out = std::move(d);
    } else {
        ObjectReader::fail("unknown event type '" + std::string(type) + "'");
    }
    r.finish();
    return out;
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

Expected<EventData, std::string> decode_event_data(std::string_view type, std::string_view text) {
    return guarded([&] { return data_from_json(type, parse(text)); });
}

std::string encode_event_envelope(const Event& e) {
    const json j{{"eventId", e.event_id},
                 {"type", event_type_name(e.data)},
                 {"streamType", stream_type_name(e.stream.type)},
                 {"streamId", e.stream.id},
                 {"version", e.version},
                 {"occurredAt", e.occurred_at},
                 {"causationId", e.causation_id},
                 {"schemaVersion", e.schema_version},
                 {"data", data_to_json(e.data)}};
    return dump(j);
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
        if (schema < 1 || schema > kEventSchemaVersion) {
            ObjectReader::fail("event.schemaVersion " + std::to_string(schema) +
                               " is not supported");
        }
        e.schema_version = static_cast<int>(schema);
        e.data = data_from_json(type, r.field("data"));
        if (stream_type_of(e.data) != e.stream.type) {
            ObjectReader::fail("event type " + type + " does not belong to a " + stream_type +
                               " stream");
        }
        r.finish();
        return e;
    });
}

StoredEvent decode_outbox_row(const OutboxRow& row) {
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
    std::string reason;
    const auto stream_type = parse_stream_type(row.stream_type);
    if (!stream_type) {
        reason = "unknown stream type '" + row.stream_type + "'";
    } else if (row.schema_version < 1 || row.schema_version > kEventSchemaVersion) {
        reason = "schema version " + std::to_string(row.schema_version) +
                 " is not supported by this build (it reads 1 to " +
                 std::to_string(kEventSchemaVersion) + ")";
    } else {
        e.stream.type = *stream_type;
        auto data = guarded([&] { return data_from_json(row.type, parse(row.data)); });
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
