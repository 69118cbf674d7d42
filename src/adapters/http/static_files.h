#pragma once
// The console's static files (GET /console/...): which request paths name a file, what type each
// is served as, and reading it. A path names a file only if every segment is made of letters,
// digits, '-', '_' and '.' and none starts with '.' (so neither "." nor ".."), checked on the
// decoded path ("%2e%2e" is refused too); and a file is read only if its real path, links
// resolved, lies inside the console folder. Nothing outside that folder can be served.
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

// The file a path below /console/ names, relative to the console folder: "" and a trailing '/'
// name index.html. nullopt: not a name this server serves (404).
std::optional<std::string> console_file_name(std::string_view decoded_rest);

// The Content-Type of a file by its extension; nullopt for a type the console does not ship.
std::optional<std::string_view> static_content_type(std::string_view file_name);

// The content of `folder`/`name`; nullopt when it is not a regular file that can be read.
std::optional<std::string> read_static_file(const std::string& folder, const std::string& name);

}  // namespace ordinal
