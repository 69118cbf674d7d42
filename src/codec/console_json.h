#pragma once
// JSON bodies of the admin views the operations console reads (docs/openapi.json:
// AdminStreamView, AdminTokenCheck). Pure functions, thread-safe.
#include <string>

#include "ports/stream_view.h"

namespace ordinal {

// {stream:"order/<id>", writeVersion, readVersion,
//  events:[{seq,eventId,version,type,occurredAt,committedAt,published,applied}]}
std::string write_stream_view_json(const StreamView& view);

// {passes, streams:[{stream, wanted, readVersion, passes}]}
std::string write_token_check_json(const TokenCheck& check);

}  // namespace ordinal
