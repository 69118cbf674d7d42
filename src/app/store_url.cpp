#include "app/store_url.h"

namespace ordinal {

Expected<StoreUrl, std::string> parse_store_url(const std::string& url) {
    if (url == "local" || url == "memory") return StoreUrl{url, url};
    const auto sep = url.find("://");
    if (sep == std::string::npos)
        return unexpected("not a store URL (expected scheme://...): " + url);
    std::string scheme = url.substr(0, sep);
    std::string rest = url.substr(sep + 3);
    if (scheme == "postgres") scheme = "postgresql";
    if (scheme == "sqlite") {
        if (rest.empty()) return unexpected(std::string("sqlite URL without a path"));
        return StoreUrl{scheme, rest};  // sqlite:///abs -> "/abs"; sqlite://rel -> "rel"
    }
    if (scheme == "postgresql" || scheme == "kafka" || scheme == "redis")
        return StoreUrl{scheme, url};
    return unexpected("unsupported scheme '" + scheme + "' in " + url);
}

}  // namespace ordinal
