#pragma once
// `ordinal verify --json` run as a child process against the stores named by serve's flags: its
// exit code, its output and the report it printed.
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "support/http_client.h"
#include "support/process_runner.h"

namespace ordinal::test {

// One run of `ordinal verify --json`: its exit code and the report.
struct VerifyRun {
    int code = -1;
    std::string output;  // stdout and stderr
    json report;         // null unless the run printed a JSON report

    bool has(const std::string& kind, const std::string& stream = {}) const {
        if (!report.is_object()) return false;
        for (const json& f : report["findings"]) {
            if (f["kind"] == kind && (stream.empty() || f["stream"] == stream)) return true;
        }
        return false;
    }
};

inline VerifyRun run_verify(const std::vector<std::string>& store_args, const std::string& log_path,
                            std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"verify", "--json"};
    args.insert(args.end(), store_args.begin(), store_args.end());
    args.insert(args.end(), extra.begin(), extra.end());
    VerifyRun run;
    std::tie(run.code, run.output) = ChildProcess::run(ORDINAL_BINARY, args, log_path);
    const auto start = run.output.rfind("\n{", run.output.size() - 1);
    const std::string last = run.output.substr(start == std::string::npos ? 0 : start + 1);
    run.report = json::parse(last, nullptr, false);
    if (run.report.is_discarded()) run.report = nullptr;
    return run;
}

inline std::ostream& operator<<(std::ostream& os, const VerifyRun& r) {
    return os << "exit " << r.code << ": " << r.output;
}

}  // namespace ordinal::test
