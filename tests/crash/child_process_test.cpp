// The harness's own promise: a test process that dies without running its destructors (SIGKILL,
// a sanitizer's abort, CTest's timeout) takes its `ordinal serve` children with it.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/process_runner.h"
#include "support/scratch_dir.h"

namespace ordinal::test {
namespace {

// `ordinal`, alive and not a zombie (a zombie has exited; it waits for init to reap it). The name
// keeps a pid the kernel has given to another program since from counting, or being killed.
bool ordinal_runs(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, comm, state;
    if (!(stat >> pid_field >> comm >> state)) return false;
    return comm == "(ordinal)" && state != "Z" && state != "X";
}

TEST(ChildProcessLifetime, AServerDiesWithTheTestProcessThatStartedIt) {
    ScratchDir data("ordinal-orphan-data"), logs("ordinal-orphan-logs");
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    // A stand-in for a test process: starts a server, tells its pid, and is SIGKILLed.
    const pid_t test_process = ::fork();
    ASSERT_GE(test_process, 0);
    if (test_process == 0) {
        ::close(report[0]);
        pid_t server_pid = -1;
        try {
            ServerProcess server(ORDINAL_BINARY, data.path(), logs.path());
            server.start();
            server_pid = server.child()->pid();
            (void)!::write(report[1], &server_pid, sizeof server_pid);
            ::raise(SIGKILL);  // with the server still in scope: no destructor stops it
        } catch (...) {
        }
        (void)!::write(report[1], &server_pid, sizeof server_pid);
        ::_exit(1);
    }
    ::close(report[1]);
    pid_t server = -1;
    const bool told = ::read(report[0], &server, sizeof server) == sizeof server;
    ::close(report[0]);
    int st = 0;
    ASSERT_EQ(::waitpid(test_process, &st, 0), test_process);
    ASSERT_TRUE(told && server > 0) << "the stand-in did not start a server";
    ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ordinal_runs(server) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const bool orphaned = ordinal_runs(server);
    if (orphaned) ::kill(server, SIGKILL);  // leave nothing behind when the check fails
    EXPECT_FALSE(orphaned) << "ordinal serve (pid " << server
                           << ") outlived the test process that started it";
}

}  // namespace
}  // namespace ordinal::test
