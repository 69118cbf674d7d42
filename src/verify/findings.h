#pragma once
// Where every check puts what it found: each finding is counted, the first `max` are listed.
#include <cstddef>
#include <string>
#include <utility>

#include "verify/verify_report.h"

namespace ordinal::verify {

class Findings {
  public:
    Findings(VerifyReport& report, std::size_t max) : report_(report), max_(max) {}

    void add(FindingKind kind, std::string stream, std::string detail) {
        ++report_.counts[static_cast<std::size_t>(kind)];
        if (report_.findings.size() < max_) {
            report_.findings.push_back(Finding{kind, std::move(stream), std::move(detail)});
        }
    }

  private:
    VerifyReport& report_;
    std::size_t max_;
};

}  // namespace ordinal::verify
