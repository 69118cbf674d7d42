// `ordinal`: argument parsing, then the composition root does the rest.
#include <csignal>
#include <cstdio>

#include "app/dev_kafka.h"
#include "app/service.h"
#include "app/verify.h"
#include "cli/command_line.h"
#include "codec/verify_report_json.h"

#ifndef ORDINAL_VERSION
#define ORDINAL_VERSION "dev"
#endif

namespace {

int serve(const ordinal::Settings& settings) {
    // Block the stop signals before any thread starts, so only sigwait below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    auto service = ordinal::Service::start(settings);
    if (!service) {
        std::fprintf(stderr, "ordinal: %s\n", service.error().c_str());
        return 1;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    (*service)->stop();
    return 0;
}

// Exit 0 clean, 1 drift, 2 the stores could not be read.
int verify(const ordinal::Settings& settings) {
    auto report = ordinal::run_verify(settings);
    if (!report) {
        std::fprintf(stderr, "ordinal verify: %s\n", report.error().c_str());
        return 2;
    }
    const std::string text = settings.verify_json
                                 ? ordinal::write_verify_report_json(*report) + "\n"
                                 : ordinal::format_verify_report(*report);
    std::fputs(text.c_str(), stdout);
    return report->clean() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    auto inv = ordinal::parse_command_line(argc, argv);
    if (!inv) {
        std::fprintf(stderr, "ordinal: %s\n", inv.error().c_str());
        return 2;
    }
    if (inv->exit_now) return inv->exit_code;
    if (inv->subcommand == "version") {
        std::printf("ordinal %s\n", ORDINAL_VERSION);
        return 0;
    }
    if (inv->subcommand == "dev-kafka") return ordinal::run_dev_kafka(inv->dev_kafka);
    if (inv->subcommand == "migrate") {
        auto ok = ordinal::migrate_stores(inv->settings);
        if (!ok) {
            std::fprintf(stderr, "ordinal migrate: %s\n", ok.error().c_str());
            return 1;
        }
        std::printf("migrations applied\n");
        return 0;
    }
    if (inv->subcommand == "verify") return verify(inv->settings);
    return serve(inv->settings);
}
