#pragma once
// `ordinal verify`, wired: opens audits of the stores the settings name (never creating or
// migrating them) and runs the checker of verify/store_verifier.h over them.
#include <string>

#include "app/settings.h"
#include "domain/expected.h"
#include "verify/store_verifier.h"

namespace ordinal {

// The report, or a human-readable reason the stores could not be read (exit code 2).
Expected<VerifyReport, std::string> run_verify(const Settings& settings);

}  // namespace ordinal
