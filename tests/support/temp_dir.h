#pragma once
// A ScratchDir seen as a std::filesystem::path, for tests that build file names with `/`.
// Hermetic tests put their database files here.
#include <filesystem>
#include <string>

#include "support/scratch_dir.h"

namespace ordinal::test_support {

class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "ordinal-test")
        : dir_(prefix), path_(dir_.path()) {}

    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    test::ScratchDir dir_;
    std::filesystem::path path_;
};

}  // namespace ordinal::test_support
