#pragma once
// JSON form of events: the `data` object of each event type and the full envelope carried on the
// bus (docs/design.md "Events"). The JSON library stays inside codec/event_json.cpp; callers see
// only strings.
//
// Encoding never fails. Decoding is strict and never throws: it rejects malformed JSON, missing
// or unknown fields, wrong JSON types (e.g. 1.0 where an integer is expected), integers outside
// int64 and type/stream mismatches, with a human message (for logs, never for clients).
// Every function is thread-safe (no shared state).
#include <string>
#include <string_view>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "ports/write_store.h"

namespace ordinal {

// ProductUpserted {sku,name,currency,priceMinor,stock(null|int),stockSeq}
// OrderPlaced
// {userId,currency,items:[{sku,qty,unitPriceMinor}],totalMinor,stockChanges:[{sku,stock,stockSeq}]}
// OrderPaid       {paymentRef,amountMinor}
// OrderShipped    {}
// OrderCancelled  {reason,cancelledFrom("PLACED"|"PAID"|null),stockChanges:[{sku,stock,stockSeq}]}
//                 (schema version 2; version 1 had no cancelledFrom)
// Always the shape this build writes: schema_version_of(data).
std::string encode_event_data(const EventData& data);

// `type` is the event type name ("OrderPlaced", ...) that selects the expected shape of `json`.
// `schema_version` is the version it was stored at: an older one is upcast first, a newer one
// than this build writes is refused; 0 means the shape this build writes.
Expected<EventData, std::string> decode_event_data(std::string_view type, std::string_view json,
                                                   int schema_version = 0);

// {eventId,type,streamType,streamId,version,occurredAt,causationId,schemaVersion,data}
// Encoding writes schemaVersion = schema_version_of(data); decoding upcasts an older version
// (the Event keeps the version it was stored at) and refuses a newer one.
std::string encode_event_envelope(const Event& event);
Expected<Event, std::string> decode_event_envelope(std::string_view json);

// An outbox row, decoded, an older schema version upcast. Never fails: a row this build cannot
// decode (unknown type, newer schema version, damaged data) comes back with `undecoded` set,
// carrying its envelope for the bus and the reason, so one such row parks its stream instead of
// stopping the relay.
StoredEvent decode_outbox_row(const OutboxRow& row);

// An outbox row for a bus that carries envelopes (EventForm::Envelope): `as_stored` holds the
// envelope with the data and schema version as stored, not decoded, not upcast — the consumer's
// decode_event_envelope upcasts and checks it as it would any message (one it cannot read it
// dead-letters, as the undecodable rows above). For a row this build wrote, the envelope is byte
// for byte encode_event_envelope() of the decoded row. Never fails; no JSON is parsed.
StoredEvent outbox_row_as_stored(const OutboxRow& row);

// Order lines in the same shape as OrderPlaced.items: [{sku,qty,unitPriceMinor}]. Used by stores
// that keep an order's lines in one text column.
std::string encode_order_lines(const std::vector<OrderLine>& lines);
Expected<std::vector<OrderLine>, std::string> decode_order_lines(std::string_view json);

}  // namespace ordinal
