#pragma once
// Test hosts for the partition tests (tests/scripts/netns_hosts.sh): network namespaces on one
// private switch, with the test's own namespace linked to it as host "root". A process placed on
// a host runs there (`ip netns exec`), keeps running when its link is cut, and reaches the others
// only over the switch, so cutting one host's link partitions exactly that host. Made in the
// constructor (throwing if it cannot: the tests need root and fail, never skip, without it),
// removed in the destructor with every process left inside; a crashed run's leftovers are removed
// by the next run. Needs ORDINAL_NETNS_SCRIPT.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/scratch_dir.h"

namespace ordinal::test {

class TestHosts {
  public:
    explicit TestHosts(const std::vector<std::string>& names) : dir_("ordinal-hosts") {
        std::string cmd = "up '" + dir_.path() + "' " + std::to_string(::getpid());
        for (const auto& n : names) cmd += " " + n;
        if (run(cmd) != 0)
            throw std::runtime_error(
                "cannot make the test hosts (netns_hosts.sh up failed; "
                "network namespaces need root and iproute2)");
        std::ifstream in(dir_.path() + "/hosts");
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream fields(line);
            Host h;
            int index = 0;
            fields >> h.name >> h.netns >> h.address >> index;
            hosts_[h.name] = h;
        }
        for (const auto& n : names) {
            if (!hosts_.count(n)) throw std::runtime_error("test host " + n + " missing");
        }
    }
    ~TestHosts() { run("down '" + dir_.path() + "'"); }
    TestHosts(const TestHosts&) = delete;
    TestHosts& operator=(const TestHosts&) = delete;

    bool has(const std::string& name) const { return hosts_.count(name) > 0; }
    // The host's namespace and its address on the switch; "root" is the test's own namespace.
    const std::string& netns(const std::string& name) const { return at(name).netns; }
    const std::string& address(const std::string& name) const { return at(name).address; }
    // The command prefix that runs a program on the host.
    std::vector<std::string> launcher(const std::string& name) const {
        return {"/usr/bin/env", "ip", "netns", "exec", netns(name)};
    }

    // Cuts the host off the switch (its packets are dropped silently, its link stays up), and
    // links it again.
    void cut(const std::string& name) { must("cut '" + dir_.path() + "' " + at(name).name); }
    void heal(const std::string& name) { must("heal '" + dir_.path() + "' " + at(name).name); }
    // Cuts only the links between the named hosts (each keeps reaching every other host), and
    // links them again. The isolated hosts are one group: isolating more later cuts those from
    // every host isolated before, too (bridge port isolation).
    void isolate(const std::vector<std::string>& names) { must(group("isolate", names)); }
    // Drops `percent` % of the packets to and from the host, at random, and stops it again.
    void lossy(const std::string& name, int percent) {
        must("lossy '" + dir_.path() + "' " + at(name).name + " " + std::to_string(percent));
    }
    void lossless(const std::string& name) {
        must("lossless '" + dir_.path() + "' " + at(name).name);
    }
    void unisolate(const std::vector<std::string>& names) { must(group("unisolate", names)); }

    // Bytes `from` has sent to `to` over established TCP connections that `to` has not
    // acknowledged yet (the Send-Q of `ss`, run on `from`): a request in flight over a cut link.
    long long unacknowledged_bytes(const std::string& from, const std::string& to) const {
        const std::string cmd =
            (from == "root" ? std::string() : "ip netns exec " + netns(from) + " ") +
            "ss -Htn state established dst " + address(to);
        FILE* out = ::popen(cmd.c_str(), "r");
        if (!out) throw std::runtime_error("cannot run ss");
        long long total = 0, recv_q = 0, send_q = 0;
        char rest[512];
        while (std::fscanf(out, "%lld %lld%511[^\n]", &recv_q, &send_q, rest) == 3) total += send_q;
        if (::pclose(out) != 0) throw std::runtime_error("ss failed: " + cmd);
        return total;
    }

  private:
    struct Host {
        std::string name, netns, address;
    };
    const Host& at(const std::string& name) const {
        const auto it = hosts_.find(name);
        if (it == hosts_.end()) throw std::runtime_error("no test host " + name);
        return it->second;
    }
    std::string group(const std::string& cmd, const std::vector<std::string>& names) const {
        std::string args = cmd + " '" + dir_.path() + "'";
        for (const auto& n : names) args += " " + at(n).name;
        return args;
    }
    static int run(const std::string& args) {
        return std::system(("bash '" ORDINAL_NETNS_SCRIPT "' " + args + " >/dev/null").c_str());
    }
    static void must(const std::string& args) {
        if (run(args) != 0) throw std::runtime_error("netns_hosts.sh " + args + " failed");
    }

    ScratchDir dir_;
    std::map<std::string, Host> hosts_;
};

}  // namespace ordinal::test
