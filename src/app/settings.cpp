#include "app/settings.h"

#include <algorithm>
#include <filesystem>

namespace ordinal {

bool has_role(const Settings& s, const std::string& role) {
    return std::find(s.roles.begin(), s.roles.end(), role) != s.roles.end();
}

Expected<CheckedSettings, std::string> check_settings(const Settings& s) {
    for (const auto& r : s.roles) {
        if (r != "api" && r != "relay" && r != "projector")
            return unexpected("unknown role '" + r + "'");
    }
    CheckedSettings c;
    c.api = has_role(s, "api");
    c.relay = has_role(s, "relay");
    c.projector = has_role(s, "projector");
    if (!c.api && !c.relay && !c.projector) return unexpected(std::string("--roles names no role"));

    auto bus_url = parse_store_url(s.bus);
    if (!bus_url) return unexpected(bus_url.error());
    if (bus_url->scheme != "local" && bus_url->scheme != "kafka") {
        return unexpected("bus '" + bus_url->scheme + "' is not supported (local or kafka://)");
    }
    if (bus_url->scheme == "local" && c.relay != c.projector) {
        return unexpected(
            std::string("--bus local delivers in-process: the relay and projector roles must "
                        "run in the same process"));
    }
    auto cache_url = parse_store_url(s.cache);
    if (!cache_url) return unexpected(cache_url.error());
    if (cache_url->scheme != "memory" && cache_url->scheme != "redis") {
        return unexpected("cache '" + cache_url->scheme + "' is not supported yet");
    }
    c.bus = std::move(*bus_url);
    c.cache = std::move(*cache_url);
    return c;
}

std::string default_sqlite(const Settings& s, const char* file) {
    return "sqlite://" + (std::filesystem::path(s.data_dir) / file).string();
}

Expected<StoreUrl, std::string> store_url(const std::string& given, const Settings& s,
                                          const char* file) {
    return parse_store_url(given.empty() ? default_sqlite(s, file) : given);
}

Expected<std::pair<std::string, std::uint16_t>, std::string> parse_listen(
    const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return unexpected("--listen must be HOST:PORT, got " + listen);
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    int port = -1;
    try {
        std::size_t used = 0;
        port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1) port = -1;
    } catch (...) {
        port = -1;
    }
    if (port < 0 || port > 65535) return unexpected("--listen has an invalid port: " + listen);
    return std::pair{host.empty() ? std::string("127.0.0.1") : host,
                     static_cast<std::uint16_t>(port)};
}

}  // namespace ordinal
