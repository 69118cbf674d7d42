#pragma once
#include <string_view>

namespace ordinal {

// docs/openapi.json as embedded at build time (served by GET /openapi.json). Empty when the build
// did not generate ordinal_openapi_json.inc (see the top-level CMakeLists.txt).
std::string_view embedded_openapi_document();

}  // namespace ordinal
