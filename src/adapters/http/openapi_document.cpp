#include "adapters/http/openapi_document.h"

namespace ordinal {

// The build writes docs/openapi.json into a raw string literal in ordinal_openapi_json.inc, so the
// binary serves the document kept in the repository wherever it runs from.
#if __has_include("ordinal_openapi_json.inc")
std::string_view embedded_openapi_document() {
    static constexpr std::string_view kDocument =
#include "ordinal_openapi_json.inc"
        ;
    return kDocument;
}
#else
std::string_view embedded_openapi_document() {
    return {};
}
#endif

}  // namespace ordinal
