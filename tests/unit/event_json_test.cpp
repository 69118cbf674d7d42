// The event JSON codec: exact field names, round trips, and strict rejection of bad input.
#include "codec/event_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace ordinal {
namespace {

Event sample_event(EventData data, StreamType type = StreamType::Order,
                   std::string id = "0190a1b2-c3d4-7e5f-8a9b-000000000001") {
    Event e;
    e.event_id = "0190a1b2-c3d4-7e5f-8a9b-0000000000aa";
    e.stream = StreamKey{type, std::move(id)};
    e.version = 3;
    e.occurred_at = "2026-11-27T09:51:01.123Z";
    e.causation_id = "6f1c1a52-2b7e-4c1e-9d2a-3e4f5a6b7c8d";
    e.data = std::move(data);
    return e;
}

OrderPlaced sample_placed() {
    return OrderPlaced{"4f0d2a8e-1c7b-4e55-9a31-0b6c2d7e8f90",
                       "EUR",
                       {{"SKU-1", 2, 250}, {"SKU-2", 1, 9'000'000'000'000}},
                       9'000'000'000'500,
                       {{"SKU-1", 8, 12}, {"SKU-2", std::nullopt, 3}}};
}

template <class T>
T round_trip_data(const T& data) {
    const std::string json = encode_event_data(EventData{data});
    auto back = decode_event_data(event_type_name(EventData{data}), json);
    EXPECT_TRUE(back) << back.error() << " in " << json;
    EXPECT_TRUE(back && std::holds_alternative<T>(*back));
    return back && std::holds_alternative<T>(*back) ? std::get<T>(*back) : T{};
}

TEST(EventJson, EncodesTheDocumentedFieldNames) {
    EXPECT_EQ(
        encode_event_data(ProductUpserted{"SKU-1", "Mug", "EUR", 1299, std::nullopt, 4}),
        R"({"currency":"EUR","name":"Mug","priceMinor":1299,"sku":"SKU-1","stock":null,"stockSeq":4})");
    EXPECT_EQ(encode_event_data(OrderPaid{"ref-9", 500}),
              R"({"amountMinor":500,"paymentRef":"ref-9"})");
    EXPECT_EQ(encode_event_data(OrderShipped{}), "{}");
    EXPECT_EQ(encode_event_data(OrderCancelled{"late", {{"A", 3, 7}}, OrderStatus::Paid}),
              R"({"cancelledFrom":"PAID","reason":"late","stockChanges":[{"sku":"A","stock":3,)"
              R"("stockSeq":7}]})");
    EXPECT_EQ(
        encode_event_data(OrderPlaced{"u", "USD", {{"A", 2, 5}}, 10, {}}),
        R"({"currency":"USD","items":[{"qty":2,"sku":"A","unitPriceMinor":5}],"stockChanges":[],)"
        R"("totalMinor":10,"userId":"u"})");
}

TEST(EventJson, DataRoundTripsForEveryType) {
    const auto upserted =
        round_trip_data(ProductUpserted{"SKU-1", "Caf\u00e9 \"Mug\"", "EUR", 0, 42, 9});
    EXPECT_EQ(upserted.name, "Caf\u00e9 \"Mug\"");
    EXPECT_EQ(upserted.stock, 42);
    EXPECT_EQ(upserted.stock_seq, 9);

    const OrderPlaced original = sample_placed();
    const auto placed = round_trip_data(original);
    EXPECT_EQ(placed.user_id, original.user_id);
    ASSERT_EQ(placed.items.size(), 2u);
    EXPECT_EQ(placed.items[1].unit_price_minor, 9'000'000'000'000);
    EXPECT_EQ(placed.total_minor, original.total_minor);
    ASSERT_EQ(placed.stock_changes.size(), 2u);
    EXPECT_EQ(placed.stock_changes[0].stock, 8);
    EXPECT_EQ(placed.stock_changes[1].stock, std::nullopt);

    const auto paid = round_trip_data(OrderPaid{"ref", 123});
    EXPECT_EQ(paid.payment_ref, "ref");
    EXPECT_EQ(paid.amount_minor, 123);
    round_trip_data(OrderShipped{});
    const auto cancelled =
        round_trip_data(OrderCancelled{"why", {{"X", 1, 2}}, OrderStatus::Placed});
    EXPECT_EQ(cancelled.reason, "why");
    EXPECT_EQ(cancelled.cancelled_from, OrderStatus::Placed);
    EXPECT_FALSE(round_trip_data(OrderCancelled{"why", {}, std::nullopt}).cancelled_from);
    ASSERT_EQ(cancelled.stock_changes.size(), 1u);
}

TEST(EventJson, EnvelopeRoundTrips) {
    const Event e = sample_event(sample_placed());
    const std::string json = encode_event_envelope(e);
    auto back = decode_event_envelope(json);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->event_id, e.event_id);
    EXPECT_EQ(back->stream, e.stream);
    EXPECT_EQ(back->version, 3);
    EXPECT_EQ(back->occurred_at, e.occurred_at);
    EXPECT_EQ(back->causation_id, e.causation_id);
    EXPECT_EQ(back->schema_version, schema_version_of(back->data));
    ASSERT_TRUE(std::holds_alternative<OrderPlaced>(back->data));
    EXPECT_EQ(encode_event_envelope(*back), json);
    EXPECT_NE(json.find(R"("type":"OrderPlaced")"), std::string::npos);
    EXPECT_NE(json.find(R"("streamType":"order")"), std::string::npos);

    const Event p = sample_event(ProductUpserted{"SKU-1", "Mug", "EUR", 1, std::nullopt, 1},
                                 StreamType::Product, "SKU-1");
    auto product = decode_event_envelope(encode_event_envelope(p));
    ASSERT_TRUE(product) << product.error();
    EXPECT_EQ(product->stream.type, StreamType::Product);
}

// One event of each type, with strings that need escaping (quotes, control characters, UTF-8).
std::vector<Event> events_of_each_type() {
    std::vector<Event> events = {
        sample_event(sample_placed()),
        sample_event(ProductUpserted{"SKU-\"1\"", "Mug\n\u00e9", "EUR", 1, std::nullopt, 1},
                     StreamType::Product, "SKU-\"1\""),
        sample_event(OrderCancelled{"why\t", {{"X", 1, 2}}, OrderStatus::Paid}),
        sample_event(OrderPaid{"ref", 5}),
        sample_event(OrderShipped{}),
    };
    events[1].causation_id = "cause \"quoted\"";
    events[2].version = 1234567890123;
    return events;
}

// The envelope is written as a string (the relay encodes every event it sends); it must be what
// the tree of the envelope dumps to, byte for byte, whatever the event and its strings hold.
TEST(EventJson, EnvelopeIsByteForByteTheDumpOfItsTree) {
    for (const Event& e : events_of_each_type()) {
        const nlohmann::json tree{{"eventId", e.event_id},
                                  {"type", event_type_name(e.data)},
                                  {"streamType", stream_type_name(e.stream.type)},
                                  {"streamId", e.stream.id},
                                  {"version", e.version},
                                  {"occurredAt", e.occurred_at},
                                  {"causationId", e.causation_id},
                                  {"schemaVersion", schema_version_of(e.data)},
                                  {"data", nlohmann::json::parse(encode_event_data(e.data))}};
        EXPECT_EQ(encode_event_envelope(e), tree.dump()) << event_type_name(e.data);
    }
}

TEST(EventJson, RejectsMalformedData) {
    const char* cases[][2] = {
        {"OrderPaid", ""},
        {"OrderPaid", "not json"},
        {"OrderPaid", "[]"},
        {"OrderPaid", "null"},
        {"OrderPaid", R"({"paymentRef":"r"})"},                               // missing field
        {"OrderPaid", R"({"paymentRef":"r","amountMinor":1,"extra":true})"},  // unknown field
        {"OrderPaid", R"({"paymentRef":"r","amountMinor":1.0})"},             // float, not integer
        {"OrderPaid", R"({"paymentRef":"r","amountMinor":"1"})"},             // string, not integer
        {"OrderPaid", R"({"paymentRef":"r","amountMinor":9223372036854775808})"},  // past int64
        {"OrderPaid", R"({"paymentRef":5,"amountMinor":1})"},
        {"OrderPaid", R"({"paymentRef":"r","amountMinor":1)"},  // truncated
        {"OrderShipped", R"({"x":1})"},
        {"OrderCancelled", R"({"reason":"r","stockChanges":{}})"},
        {"OrderCancelled", R"({"reason":"r","stockChanges":[{"sku":"A","stock":1}]})"},
        {"OrderPlaced",
         R"({"userId":"u","currency":"EUR","items":[1],"totalMinor":1,"stockChanges":[]})"},
        {"ProductUpserted",
         R"({"sku":"A","name":"n","currency":"EUR","priceMinor":1,"stock":"1","stockSeq":1})"},
        {"NoSuchEvent", "{}"},
        {"OrderPaid", "{\"paymentRef\":\"\xff\xfe\",\"amountMinor\":1}"},  // invalid UTF-8
    };
    for (const auto& c : cases) {
        auto decoded = decode_event_data(c[0], c[1]);
        EXPECT_FALSE(decoded) << c[0] << " " << c[1];
        if (!decoded) {
            EXPECT_FALSE(decoded.error().empty());
        }
    }
    // The largest int64 is fine; so is a negative number (ranges are the domain's business).
    EXPECT_TRUE(
        decode_event_data("OrderPaid", R"({"paymentRef":"r","amountMinor":9223372036854775807})"));
    EXPECT_TRUE(decode_event_data("OrderPaid", R"({"paymentRef":"r","amountMinor":-1})"));
}

TEST(EventJson, RejectsMalformedEnvelopes) {
    const std::string good = encode_event_envelope(sample_event(OrderShipped{}));
    ASSERT_TRUE(decode_event_envelope(good));
    auto replace = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        const auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    const std::vector<std::string> bad = {
        replace(R"("streamType":"order")",
                R"("streamType":"product")"),  // type does not fit the stream
        replace(R"("streamType":"order")", R"("streamType":"user")"),
        replace(R"("version":3)", R"("version":0)"),
        replace(R"("schemaVersion":1)", R"("schemaVersion":2)"),
        replace(R"("type":"OrderShipped")", R"("type":"OrderPaid")"),  // data lacks the fields
        replace(R"("data":{})", R"("data":[])"),
        replace(R"("eventId":)", R"("unknown":1,"eventId":)"),
        replace(R"("causationId":)", R"("causation":)"),
        good.substr(0, good.size() - 1),
        "",
        "{}",
        "[1,2,3]",
    };
    for (const auto& s : bad) {
        auto decoded = decode_event_envelope(s);
        EXPECT_FALSE(decoded) << s;
    }
}

OutboxRow outbox_row(std::string type, std::int64_t schema, std::string data) {
    return OutboxRow{7,
                     "0190a1b2-c3d4-7e5f-8a9b-0000000000aa",
                     "order",
                     "0190a1b2-c3d4-7e5f-8a9b-000000000001",
                     2,
                     std::move(type),
                     "2026-11-27T09:51:01.123Z",
                     "6f1c1a52-2b7e-4c1e-9d2a-3e4f5a6b7c8d",
                     schema,
                     std::move(data)};
}

TEST(EventJson, OutboxRowsDecode) {
    const StoredEvent e =
        decode_outbox_row(outbox_row("OrderPaid", 1, R"({"paymentRef":"p","amountMinor":5})"));
    ASSERT_FALSE(e.undecoded) << e.undecoded->reason;
    EXPECT_EQ(e.seq, 7);
    EXPECT_EQ(e.event.version, 2);
    EXPECT_EQ(e.event.stream.type, StreamType::Order);
    ASSERT_TRUE(std::holds_alternative<OrderPaid>(e.event.data));
    EXPECT_EQ(std::get<OrderPaid>(e.event.data).amount_minor, 5);
}

// A row of a newer build is carried on as it was written, never read as something else.
TEST(EventJson, OutboxRowsThisBuildCannotReadKeepTheirEnvelope) {
    struct Case {
        OutboxRow row;
        std::string reason_has;
    };
    const Case cases[] = {
        {outbox_row("OrderGiftWrapped", 1, R"({"paper":"gold"})"), "OrderGiftWrapped"},
        {outbox_row("OrderShipped", 2, "{}"), "schema version 2"},
        {outbox_row("OrderShipped", 1, "not json"), "not valid JSON"},
        {outbox_row("ProductUpserted", 1, "{}"), ""},
    };
    for (const Case& c : cases) {
        const StoredEvent e = decode_outbox_row(c.row);
        ASSERT_TRUE(e.undecoded) << c.row.type;
        EXPECT_NE(e.undecoded->reason.find(c.reason_has), std::string::npos) << e.undecoded->reason;
        EXPECT_NE(e.undecoded->reason.find("seq 7"), std::string::npos) << e.undecoded->reason;
        EXPECT_EQ(e.undecoded->stream, "order/" + c.row.stream_id);
        EXPECT_EQ(e.undecoded->type, c.row.type);
        EXPECT_EQ(e.event.version, 2);
        // The envelope is what a build that knows the type decodes on retry.
        EXPECT_NE(e.undecoded->envelope.find(R"("type":")" + c.row.type + "\""), std::string::npos)
            << e.undecoded->envelope;
        EXPECT_FALSE(decode_event_envelope(e.undecoded->envelope)) << e.undecoded->envelope;
    }
    const StoredEvent text = decode_outbox_row(outbox_row("OrderShipped", 1, "not json"));
    EXPECT_NE(text.undecoded->envelope.find(R"("data":"not json")"), std::string::npos);
}

// The relay's rows for the Kafka bus (EventForm::Envelope): the envelope is built from the columns
// without decoding the data. For a row this build wrote it is the very bytes the decoded row
// encodes to, so the bus carries what it carried when the relay decoded every row.
TEST(EventJson, AnOutboxRowAsStoredIsTheEnvelopeOfTheDecodedRow) {
    for (const Event& e : events_of_each_type()) {
        OutboxRow row{11,
                      e.event_id,
                      std::string(stream_type_name(e.stream.type)),
                      e.stream.id,
                      e.version,
                      std::string(event_type_name(e.data)),
                      e.occurred_at,
                      e.causation_id,
                      schema_version_of(e.data),
                      encode_event_data(e.data)};
        row.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        row.tracestate = "congo=t61rcWkgMzE";
        const StoredEvent decoded = decode_outbox_row(row);
        ASSERT_FALSE(decoded.undecoded) << decoded.undecoded->reason;
        const StoredEvent as_stored = outbox_row_as_stored(row);
        ASSERT_TRUE(as_stored.as_stored);
        EXPECT_FALSE(as_stored.undecoded);
        EXPECT_EQ(as_stored.as_stored->envelope, encode_event_envelope(decoded.event))
            << event_type_name(e.data);
        EXPECT_EQ(as_stored.as_stored->type, row.type);
        EXPECT_EQ(as_stored.as_stored->stream_type, row.stream_type);
        // What the relay and the producer's key and headers use.
        EXPECT_EQ(as_stored.seq, 11);
        EXPECT_EQ(as_stored.event.event_id, e.event_id);
        EXPECT_EQ(as_stored.event.stream, e.stream);
        EXPECT_EQ(as_stored.event.version, e.version);
        EXPECT_EQ(as_stored.event.occurred_at, e.occurred_at);
        EXPECT_EQ(as_stored.trace.traceparent, row.traceparent);
        EXPECT_EQ(as_stored.trace.tracestate, row.tracestate);
    }
    OutboxRow damaged_trace = outbox_row("OrderShipped", 1, "{}");
    damaged_trace.traceparent = "not a traceparent";
    EXPECT_TRUE(outbox_row_as_stored(damaged_trace).trace.empty());
}

// Rows stored at an older schema version go out as stored and are upcast by the consumer, to
// the event the relay's own decoding made of them; rows this build cannot read go out too and
// fail the consumer's decoding, so it dead-letters them (from the message's headers and key).
TEST(EventJson, AnOutboxRowAsStoredDecodesOnTheConsumerAsTheRowDoes) {
    std::ifstream in(std::string(ORDINAL_SOURCE_DIR) + "/tests/fixtures/events_schema_v1.json");
    ASSERT_TRUE(in) << "fixture missing";
    const auto fixture = nlohmann::json::parse(in, nullptr, false);
    ASSERT_TRUE(fixture.is_object());
    std::size_t seen = 0;
    for (const auto& r : fixture["events"]) {
        const OutboxRow row{
            static_cast<std::int64_t>(++seen),       r["event_id"].get<std::string>(),
            r["stream_type"].get<std::string>(),     r["stream_id"].get<std::string>(),
            r["version"].get<std::int64_t>(),        r["type"].get<std::string>(),
            r["occurred_at"].get<std::string>(),     r["causation_id"].get<std::string>(),
            r["schema_version"].get<std::int64_t>(), r["data"].get<std::string>()};
        const StoredEvent decoded = decode_outbox_row(row);
        ASSERT_FALSE(decoded.undecoded) << decoded.undecoded->reason;
        const StoredEvent as_stored = outbox_row_as_stored(row);
        ASSERT_TRUE(as_stored.as_stored);
        EXPECT_NE(as_stored.as_stored->envelope.find(R"("schemaVersion":1)"), std::string::npos);
        const auto consumed = decode_event_envelope(as_stored.as_stored->envelope);
        ASSERT_TRUE(consumed) << consumed.error() << " in " << as_stored.as_stored->envelope;
        EXPECT_EQ(consumed->schema_version, 1);
        EXPECT_EQ(encode_event_envelope(*consumed), encode_event_envelope(decoded.event))
            << row.type;
    }
    EXPECT_EQ(seen, 6u);
    for (const OutboxRow& row :
         {outbox_row("OrderGiftWrapped", 1, R"({"paper":"gold"})"),
          outbox_row("OrderShipped", 2, "{}"), outbox_row("OrderShipped", 1, "not json"),
          outbox_row("ProductUpserted", 1, "{}")}) {
        const StoredEvent as_stored = outbox_row_as_stored(row);
        ASSERT_TRUE(as_stored.as_stored);
        EXPECT_EQ(as_stored.as_stored->type, row.type);
        EXPECT_EQ(as_stored.event.version, 2);
        EXPECT_FALSE(decode_event_envelope(as_stored.as_stored->envelope))
            << as_stored.as_stored->envelope;
    }
}

// Schema evolution: each type's upcaster chain reaches the version this build writes.
TEST(EventJson, EveryTypeHasAChainToTheVersionItWrites) {
    const EventData each[] = {ProductUpserted{}, OrderPlaced{}, OrderPaid{}, OrderShipped{},
                              OrderCancelled{}};
    for (const EventData& d : each) {
        const std::string type(event_type_name(d));
        const std::string current = encode_event_data(d);
        for (int v = kOldestEventSchemaVersion; v <= schema_version_of(d); ++v) {
            // At the version it writes, its own data; below it, an empty object: whether the
            // chain reshapes an older payload right is checked with stored payloads below, here
            // only that no step is missing.
            const bool written = v == schema_version_of(d);
            const auto back = decode_event_data(type, written ? current : "{}", v);
            const std::string error = back ? std::string() : back.error();
            EXPECT_TRUE(back || !written) << type << " v" << v << ": " << error;
            EXPECT_EQ(error.find("no upcaster"), std::string::npos) << error;
        }
        const auto newer = decode_event_data(type, current, schema_version_of(d) + 1);
        ASSERT_FALSE(newer) << type;
        EXPECT_NE(newer.error().find("not supported"), std::string::npos) << newer.error();
    }
    EXPECT_EQ(schema_version_of(OrderCancelled{}), 2);
}

// A version-1 OrderCancelled as builds before schema version 2 stored it reads as version 2 with
// cancelledFrom unknown, and is encoded in the version-2 shape (the Kafka relay sends it as stored,
// the consumer upcasts it: AnOutboxRowAsStoredDecodesOnTheConsumerAsTheRowDoes). (Stored rows of
// a whole v1 history through the relay and projector: EventSchemaUpgrade.*.)
TEST(EventJson, AStoredVersionOneOrderCancelledIsUpcast) {
    const std::string v1 =
        R"({"reason":"changed my mind","stockChanges":[{"sku":"SKU-1","stock":10,"stockSeq":3}]})";
    const StoredEvent e = decode_outbox_row(outbox_row("OrderCancelled", 1, v1));
    ASSERT_FALSE(e.undecoded) << e.undecoded->reason;
    EXPECT_EQ(e.event.schema_version, 1);  // as stored
    const auto& d = std::get<OrderCancelled>(e.event.data);
    EXPECT_EQ(d.reason, "changed my mind");
    EXPECT_FALSE(d.cancelled_from);
    ASSERT_EQ(d.stock_changes.size(), 1u);
    EXPECT_EQ(d.stock_changes[0].stock, 10);
    const std::string envelope = encode_event_envelope(e.event);
    EXPECT_NE(envelope.find(R"("schemaVersion":2)"), std::string::npos) << envelope;
    EXPECT_NE(envelope.find(R"("cancelledFrom":null)"), std::string::npos) << envelope;
    ASSERT_TRUE(decode_event_envelope(envelope));

    // The same event as an envelope on the bus (a relay of the older build) is upcast too.
    std::string old_envelope = envelope;
    old_envelope.replace(old_envelope.find(R"("cancelledFrom":null,)"), 21, "");
    old_envelope.replace(old_envelope.find(R"("schemaVersion":2)"), 17, R"("schemaVersion":1)");
    const auto bus = decode_event_envelope(old_envelope);
    ASSERT_TRUE(bus) << bus.error() << " in " << old_envelope;
    EXPECT_FALSE(std::get<OrderCancelled>(bus->data).cancelled_from);

    // Version 1 never had the field; version 3 is a newer build's: parked, not guessed at.
    EXPECT_TRUE(
        decode_outbox_row(outbox_row("OrderCancelled", 1,
                                     R"({"reason":"r","cancelledFrom":"PAID","stockChanges":[]})"))
            .undecoded);
    const StoredEvent newer = decode_outbox_row(outbox_row("OrderCancelled", 3, v1));
    ASSERT_TRUE(newer.undecoded);
    EXPECT_NE(
        newer.undecoded->reason.find(
            "schema version 3 is not supported by this build (it reads OrderCancelled 1 to 2)"),
        std::string::npos)
        << newer.undecoded->reason;
}

TEST(EventJson, OrderLinesRoundTrip) {
    const std::vector<OrderLine> lines = {{"A", 1, 2}, {"B", 3, 4}};
    auto back = decode_order_lines(encode_order_lines(lines));
    ASSERT_TRUE(back) << back.error();
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[1].sku, "B");
    EXPECT_EQ((*back)[1].qty, 3);
    EXPECT_EQ((*back)[1].unit_price_minor, 4);
    EXPECT_EQ(encode_order_lines({}), "[]");
    EXPECT_FALSE(decode_order_lines("{}"));
    EXPECT_FALSE(decode_order_lines(R"([{"sku":"A","qty":1}])"));
}

// The order lines and the OrderPlaced data are written without a JSON tree, but must be the same
// bytes as nlohmann's dump of one (rows stored before and after compare equal), escapes and
// non-ASCII included.
TEST(EventJson, CreateOrderJsonIsTheBytesOfTheTree) {
    const std::vector<OrderLine> odd = {{"plain-1", 1, 1099},
                                        {"q\"uo\\te", -2, 0},
                                        {"tab\tnl\nctl\x01", 3, -7},
                                        {"caf\u00e9 \u20ac", 9, 1}};
    nlohmann::json tree = nlohmann::json::array();
    for (const OrderLine& l : odd)
        tree.push_back({{"sku", l.sku}, {"qty", l.qty}, {"unitPriceMinor", l.unit_price_minor}});
    EXPECT_EQ(encode_order_lines(odd), tree.dump());
    EXPECT_EQ(encode_order_lines({odd[0]}), R"([{"qty":1,"sku":"plain-1","unitPriceMinor":1099}])");
    // The same for the order's event, written without a tree too.
    const OrderPlaced placed{
        "u\"ser\u00e9", "E\\R", odd, -5, {{"q\"s", 3, 1}, {"t\tu", std::nullopt, 2}}};
    nlohmann::json changes = nlohmann::json::array();
    for (const StockChange& c : placed.stock_changes) {
        changes.push_back({{"sku", c.sku},
                           {"stock", c.stock ? nlohmann::json(*c.stock) : nlohmann::json(nullptr)},
                           {"stockSeq", c.stock_seq}});
    }
    const nlohmann::json data{{"userId", placed.user_id},
                              {"currency", placed.currency},
                              {"items", tree},
                              {"totalMinor", placed.total_minor},
                              {"stockChanges", changes}};
    EXPECT_EQ(encode_event_data(placed), data.dump());
}

}  // namespace
}  // namespace ordinal
