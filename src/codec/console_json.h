#pragma once
// JSON bodies of the admin views the operations console reads (docs/openapi.json:
// AdminStreamView, AdminTokenCheck). Pure functions, thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "codec/field_error.h"
#include "domain/expected.h"
#include "ports/stream_view.h"

namespace ordinal {

// {stream:"order/<id>", writeVersion, readVersion,
//  events:[{seq,eventId,version,type,occurredAt,committedAt,published,publishedAt,applied,
//  appliedAt}]} (the two times null when not known: ports/batch_times.h)
std::string write_stream_view_json(const StreamView& view);

// {passes, streams:[{stream, wanted, readVersion, passes}]}
std::string write_token_check_json(const TokenCheck& check);

// The body of POST /v1/admin/dead-letters/{id}/discard, {"reason": "..."}: the reason (1-500
// characters, no control characters), or the fields at fault ("body" when it is not a JSON
// object; "reason" when missing or invalid; any other member is refused by its name).
Expected<std::string, std::vector<FieldError>> read_discard_body(std::string_view body);

}  // namespace ordinal
