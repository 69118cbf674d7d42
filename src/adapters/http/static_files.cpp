#include "adapters/http/static_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ordinal {
namespace {

bool safe_segment(std::string_view s) {
    if (s.empty() || s.front() == '.') return false;  // ".", "..", and hidden files
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<std::string> console_file_name(std::string_view rest) {
    std::string name(rest);
    if (name.empty() || name.back() == '/') name += "index.html";
    if (name.size() > 200) return std::nullopt;
    std::string_view left = name;
    while (true) {
        const auto slash = left.find('/');
        if (!safe_segment(left.substr(0, slash))) return std::nullopt;
        if (slash == std::string_view::npos) break;
        left.remove_prefix(slash + 1);
    }
    return name;
}

std::optional<std::string_view> static_content_type(std::string_view name) {
    if (ends_with(name, ".html")) return "text/html; charset=utf-8";
    if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
    if (ends_with(name, ".css")) return "text/css; charset=utf-8";
    if (ends_with(name, ".json") || ends_with(name, ".map")) return "application/json";
    if (ends_with(name, ".svg")) return "image/svg+xml";
    if (ends_with(name, ".png")) return "image/png";
    if (ends_with(name, ".ico")) return "image/x-icon";
    return std::nullopt;
}

std::optional<std::string> read_static_file(const std::string& folder, const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root = fs::canonical(folder, ec);
    if (ec) return std::nullopt;
    const fs::path path = fs::canonical(root / name, ec);
    if (ec || !fs::is_regular_file(path, ec)) return std::nullopt;
    // A link in the folder pointing elsewhere resolves outside it: refused.
    const auto [end, _] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    if (end != root.end()) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(body).str();
}

}  // namespace ordinal
