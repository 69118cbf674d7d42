#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/order.h"
#include "domain/stream.h"

namespace ordinal {

// A product's available stock after a change, stamped with the product's stock sequence so the
// read side can keep the newest figure whatever order it sees the events in.
struct StockChange {
    std::string sku;
    std::optional<std::int64_t> stock;
    std::int64_t stock_seq = 0;
};

struct ProductUpserted {
    std::string sku;
    std::string name;
    std::string currency;
    std::int64_t price_minor = 0;
    std::optional<std::int64_t> stock;
    std::int64_t stock_seq = 0;
};

struct OrderPlaced {
    std::string user_id;
    std::string currency;
    std::vector<OrderLine> items;
    std::int64_t total_minor = 0;
    std::vector<StockChange> stock_changes;
};

struct OrderPaid {
    std::string payment_ref;
    std::int64_t amount_minor = 0;
};

struct OrderShipped {};

struct OrderCancelled {
    std::string reason;
    std::vector<StockChange> stock_changes;
    // The status the order was cancelled from (Placed or Paid: whether money was taken), since
    // schema version 2; nullopt for an event stored at version 1, which did not record it.
    std::optional<OrderStatus> cancelled_from;
};

using EventData =
    std::variant<ProductUpserted, OrderPlaced, OrderPaid, OrderShipped, OrderCancelled>;

std::string_view event_type_name(const EventData& d);

// The stream an event belongs on: ProductUpserted on a product stream, the rest on an order.
StreamType stream_type_of(const EventData& d);

// The schema version this build writes for each event type: the version of the shape its data
// is encoded in. Events stored at an older version are upcast on reading (codec/event_json.cpp:
// one step per version, oldest first); a version newer than this is not read (the event is
// parked until a build that knows it retries it). History: OrderCancelled 2 added
// `cancelledFrom`; every other type is still at 1.
inline constexpr int kOldestEventSchemaVersion = 1;
int schema_version_of(const EventData& d);

// The immutable envelope stored in the outbox and carried on the bus.
struct Event {
    std::string event_id;  // UUIDv7
    StreamKey stream;
    std::int64_t version = 0;  // 1, 2, ... per stream, no gaps
    std::string occurred_at;   // RFC 3339 UTC with milliseconds
    std::string causation_id;  // the command's idempotency key
    // As stored: the version the event was written at. Encoding always writes the data's current
    // shape and schema_version_of(data), so an event upcast on reading goes on in the new shape.
    int schema_version = kOldestEventSchemaVersion;
    EventData data;
};

}  // namespace ordinal
