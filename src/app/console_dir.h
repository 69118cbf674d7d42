#pragma once
#include <string>

namespace ordinal {

// Where `ordinal serve` finds the console's static files: $ORDINAL_CONSOLE_DIR when set, else the
// folder `console` beside the executable (the build writes it there: build/<preset>/console), so
// the binary serves them with no network and no install step. Empty when neither exists: the
// process then answers 404 under /console and serves everything else as before.
std::string find_console_dir();

}  // namespace ordinal
