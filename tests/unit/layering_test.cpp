// The folder tree is the architecture (src/README.md): domain/ includes only itself; ports/ the
// domain; an adapter never the services (core/), the composition root (app/) or the CLI; the
// services never an adapter. This test reads every file under src/ and fails on an include that
// runs back up, so a change that makes an adapter call into core/ is caught by `ctest -L unit`
// (the rules and services adapters need reach them through ports/, wired by app/).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace ordinal::layering {
namespace {

namespace fs = std::filesystem;

struct Rule {
    std::string folder;                  // under src/
    std::vector<std::string> forbidden;  // include prefixes it may not use
};

const std::vector<Rule>& rules() {
    static const std::vector<Rule> list = {
        {"domain/", {"ports/", "core/", "verify/", "codec/", "adapters/", "app/", "cli/"}},
        {"ports/", {"core/", "verify/", "codec/", "adapters/", "app/", "cli/"}},
        {"core/", {"codec/", "adapters/", "app/", "cli/"}},
        {"verify/", {"core/", "codec/", "adapters/", "app/", "cli/"}},
        {"codec/", {"core/", "adapters/", "app/", "cli/"}},
        {"adapters/", {"core/", "app/", "cli/"}},
    };
    return list;
}

// The quoted includes of `text` that break the rule of `path` (relative to src/), as
// "path: include".
std::vector<std::string> backward_includes(const std::string& path, const std::string& text) {
    static const std::regex include(R"re(#\s*include\s*"([^"]+)")re");
    std::vector<std::string> out;
    for (const Rule& rule : rules()) {
        if (path.rfind(rule.folder, 0) != 0) continue;
        for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
             it != std::sregex_iterator(); ++it) {
            const std::string target = (*it)[1];
            for (const std::string& prefix : rule.forbidden) {
                if (target.rfind(prefix, 0) == 0) out.push_back(path + ": " + target);
            }
        }
    }
    return out;
}

std::string contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Layering, CatchesAnAdapterThatIncludesCore) {
    // The check itself can fail: a planted include of each kind is reported.
    EXPECT_EQ(backward_includes("adapters/postgres/x.cpp", "#include \"core/relay.h\"\n"),
              std::vector<std::string>{"adapters/postgres/x.cpp: core/relay.h"});
    EXPECT_EQ(backward_includes("ports/x.h", "#  include \"adapters/http/y.h\""),
              std::vector<std::string>{"ports/x.h: adapters/http/y.h"});
    EXPECT_TRUE(backward_includes("app/x.cpp", "#include \"core/relay.h\"").empty());
    EXPECT_TRUE(backward_includes("adapters/http/x.cpp", "#include \"ports/bus.h\"").empty());
}

TEST(Layering, NoIncludeRunsBackUp) {
    const fs::path src = fs::path(ORDINAL_SOURCE_DIR) / "src";
    std::size_t files = 0;
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        const auto ext = entry.path().extension();
        if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
        ++files;
        const std::string path = fs::relative(entry.path(), src).generic_string();
        for (auto& f : backward_includes(path, contents(entry.path()))) found.push_back(f);
    }
    EXPECT_GT(files, 100u) << "src/ not found at " << src;
    for (const auto& f : found) ADD_FAILURE() << "include runs back up the layers: " << f;
}

}  // namespace
}  // namespace ordinal::layering
