#pragma once
#include <string>

#include "domain/expected.h"

namespace ordinal {

// A store location from the command line: sqlite:///abs/path.db, sqlite://rel/path.db,
// postgresql://..., kafka://host:port[,host:port]/topic, redis://host:port/db.
struct StoreUrl {
    std::string scheme;  // "sqlite", "postgresql", "kafka", "redis", "local", "memory"
    std::string target;  // for sqlite: the file path; otherwise the URL as given
};

Expected<StoreUrl, std::string> parse_store_url(const std::string& url);

}  // namespace ordinal
