#include "ports/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace ordinal {

void name_this_thread(std::string_view name) {
    std::array<char, 16> truncated{};  // the kernel's limit, with the terminating NUL
    const std::size_t length = std::min(name.size(), truncated.size() - 1);
    std::copy_n(name.data(), length, truncated.data());
    (void)pthread_setname_np(pthread_self(),
                             truncated.data());  // a name is a courtesy: never fatal
}

}  // namespace ordinal
