#include "app/console_dir.h"

#include <cstdlib>
#include <filesystem>

namespace ordinal {

std::string find_console_dir() {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const char* dir = std::getenv("ORDINAL_CONSOLE_DIR"); dir && *dir) {
        return fs::is_directory(dir, ec) ? std::string(dir) : std::string();
    }
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const fs::path dir = exe.parent_path() / "console";
    return fs::is_regular_file(dir / "index.html", ec) ? dir.string() : std::string();
}

}  // namespace ordinal
