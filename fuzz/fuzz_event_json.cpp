// Fuzzes the event codec (codec/event_json.h): the envelope carried on the bus, the `data` object
// of each event type, and the order lines stores keep in one text column.
//
// Input layout: byte 0 selects the decoder:
//   'D'   decode_event_data: the next line is the event type name, the rest the data JSON
//   'L'   decode_order_lines: the rest is the JSON
//   else  decode_event_envelope: the rest is the JSON
//
// Properties, beyond "never throws, no sanitizer report":
//   - a decoded envelope has version >= 1, a supported schemaVersion and a data type that belongs
//     to its stream type;
//   - whatever decodes re-encodes to JSON that decodes again to a value that encodes identically
//     (encode . decode is a fixed point after one round).
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/event_json.h"
#include "fuzz_support.h"

namespace {

using namespace ordinal;

template <class F>
auto guarded(F&& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "event decoder threw", e.what());
    } catch (...) {
        ordinal::fuzz::fail(__FILE__, __LINE__, "event decoder threw", "a non-std exception");
    }
}

void envelope(std::string_view json) {
    const auto e = guarded([&] { return decode_event_envelope(json); });
    if (!e) {
        FUZZ_CHECK(!e.error().empty(), "empty error message");
        return;
    }
    FUZZ_CHECK(e->version >= 1, std::to_string(e->version));
    FUZZ_CHECK(e->schema_version >= kOldestEventSchemaVersion &&
                   e->schema_version <= schema_version_of(e->data),
               std::to_string(e->schema_version));
    const bool product_event = std::holds_alternative<ProductUpserted>(e->data);
    FUZZ_CHECK(product_event == (e->stream.type == StreamType::Product), json);

    const std::string once = encode_event_envelope(*e);
    const auto back = guarded([&] { return decode_event_envelope(once); });
    FUZZ_CHECK(back.has_value(), once + " -> " + back.error());
    FUZZ_CHECK(encode_event_envelope(*back) == once, once);
}

void data(std::string_view type, std::string_view json) {
    const auto d = guarded([&] { return decode_event_data(type, json); });
    if (!d) {
        FUZZ_CHECK(!d.error().empty(), "empty error message");
        return;
    }
    FUZZ_CHECK(event_type_name(*d) == type, type);
    const std::string once = encode_event_data(*d);
    const auto back = guarded([&] { return decode_event_data(type, once); });
    FUZZ_CHECK(back.has_value(), once + " -> " + back.error());
    FUZZ_CHECK(encode_event_data(*back) == once, once);
}

void lines(std::string_view json) {
    const auto l = guarded([&] { return decode_order_lines(json); });
    if (!l) {
        FUZZ_CHECK(!l.error().empty(), "empty error message");
        return;
    }
    const std::string once = encode_order_lines(*l);
    const auto back = guarded([&] { return decode_order_lines(once); });
    FUZZ_CHECK(back.has_value(), once + " -> " + back.error());
    FUZZ_CHECK(back->size() == l->size(), once);
    FUZZ_CHECK(encode_order_lines(*back) == once, once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 1 || size > 256 * 1024) return -1;
    std::string_view in(reinterpret_cast<const char*>(bytes), size);
    const char selector = in[0];
    in.remove_prefix(1);
    if (selector == 'D') {
        const std::string_view type = ordinal::fuzz::take_line(in);
        data(type, in);
    } else if (selector == 'L') {
        lines(in);
    } else {
        envelope(in);
    }
    return 0;
}
