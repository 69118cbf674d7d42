#pragma once
#include <string_view>

namespace ordinal {

// Names the calling thread as `ps -L`, `top -H`, perf and gdb show it, so that an operator can
// tell which of a process's threads spends the CPU or wakes up. Linux keeps the first 15 bytes.
void name_this_thread(std::string_view name);

}  // namespace ordinal
