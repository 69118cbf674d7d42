#pragma once
// The production shape, as separate `ordinal serve` processes: one api, one relay and any number
// of projectors, on given PostgreSQL stores and a Kafka bus (a KafkaTopic on a real broker, or a
// MockKafka). Every process serves /readyz; a projector's says how many partitions it holds, and
// is 503 until it holds its assignment.
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/process_runner.h"

namespace ordinal::test {

struct TopologyConfig {
    std::string write_db;
    std::string read_db;
    std::string bus;  // kafka://...
    std::string admin_token;
    std::vector<std::string> extra_args;  // given to every process
};

class KafkaTopology {
  public:
    KafkaTopology(std::string log_dir, TopologyConfig config)
        : log_dir_(std::move(log_dir)), config_(std::move(config)) {}

    ServerProcess& api() { return *api_; }
    ServerProcess& relay() { return *relay_; }
    ServerProcess& projector(std::size_t i) { return *projectors_.at(i); }
    std::size_t projectors() const { return projectors_.size(); }

    // api, relay and `projectors` projectors; returns once the projectors hold every partition
    // and every process reports ready, as an operator's deployment would wait.
    void start_all(int projectors = 1, int partitions = 6) {
        start_api();
        start_relay();
        for (int i = 0; i < projectors; ++i) add_projector();
        wait_partitions_held(partitions);
        wait_ready();
    }
    void start_api() { start(api_, "api", "api"); }
    void start_relay() { start(relay_, "relay", "relay"); }
    std::size_t add_projector() {
        projectors_.emplace_back();
        start(projectors_.back(), "projector", "projector-" + std::to_string(projectors_.size()));
        return projectors_.size() - 1;
    }
    void stop_all() {
        for (auto& p : projectors_) {
            if (p) p->terminate();
        }
        if (relay_) relay_->terminate();
        if (api_) api_->terminate();
    }

    // Partitions a projector process holds now (per its /readyz), or -1 if it does not answer.
    static int held_partitions(ServerProcess& p) {
        try {
            HttpClient c(p.port(), p.host(), std::chrono::milliseconds(2000));
            const auto r = c.get("/readyz");
            const auto body = nlohmann::json::parse(r.body);
            for (const auto& comp : body["components"]) {
                if (comp["name"] != "bus") continue;
                const std::string detail = comp["detail"];
                const auto at = detail.find("holds ");
                if (at != std::string::npos) return std::stoi(detail.substr(at + 6));
            }
        } catch (...) {
        }
        return -1;
    }

    // The status of the process's GET /readyz, or -1 if it does not answer.
    static int readiness(ServerProcess& p,
                         std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) {
        try {
            HttpClient c(p.port(), p.host(), wait);
            return c.get("/readyz").status;
        } catch (...) {
            return -1;
        }
    }

    // The value of an unlabelled metric in the process's /metrics; throws if it is missing.
    static double metric(ServerProcess& p, const std::string& name) {
        HttpClient c(p.port(), p.host(), std::chrono::milliseconds(5000));
        const std::string text = c.get("/metrics").body;
        const std::string line = "\n" + name + " ";
        const auto at = text.find(line);
        if (at == std::string::npos) throw std::runtime_error("no " + name + " in /metrics");
        return std::stod(text.substr(at + line.size()));
    }

    // Waits until every running process answers /readyz with 200.
    void wait_ready(std::chrono::seconds within = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        std::vector<ServerProcess*> all;
        if (api_) all.push_back(api_.get());
        if (relay_) all.push_back(relay_.get());
        for (auto& p : projectors_) all.push_back(p.get());
        for (ServerProcess* p : all) {
            if (!p->child() || !p->child()->running()) continue;
            int status = -1;
            while ((status = readiness(*p)) != 200) {
                if (std::chrono::steady_clock::now() >= deadline)
                    throw std::runtime_error("a process never got ready: /readyz answers " +
                                             std::to_string(status));
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
    }

    // Waits until the running projectors together hold `partitions`, each of them at least one
    // when `each` is set.
    void wait_partitions_held(int partitions, bool each = false,
                              std::chrono::seconds within = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        std::string last;
        while (std::chrono::steady_clock::now() < deadline) {
            int total = 0;
            bool all_some = true;
            last.clear();
            for (auto& p : projectors_) {
                if (!p || !p->child() || !p->child()->running()) continue;
                const int held = held_partitions(*p);
                last += std::to_string(held) + " ";
                total += std::max(held, 0);
                all_some = all_some && held > 0;
            }
            if (total == partitions && (!each || all_some)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        throw std::runtime_error("projectors never held " + std::to_string(partitions) +
                                 " partitions; last: " + last);
    }

    // Every process's log, then the relay's, the projection's and Kafka's counters from its
    // /metrics (histogram buckets left out), if it still answers: neither the relay nor the
    // projector logs each delivery failure, re-send or skipped copy, and these tell a relay-side
    // loss from a projector-side skip.
    std::string logs() {
        std::string out;
        auto add = [&out](const char* name, std::unique_ptr<ServerProcess>& p) {
            if (!p) return;
            out += std::string("---- ") + name + " ----\n" + p->log() + "\n";
            try {
                HttpClient c(p->port(), p->host(), std::chrono::milliseconds(1000));
                std::istringstream metrics(c.get("/metrics").body);
                out += std::string("---- ") + name + " /metrics ----\n";
                for (std::string line; std::getline(metrics, line);) {
                    const bool ours = line.rfind("ordinal_relay", 0) == 0 ||
                                      line.rfind("ordinal_projection", 0) == 0 ||
                                      line.rfind("ordinal_kafka", 0) == 0;
                    if (ours && line.find("_bucket{") == std::string::npos) out += line + "\n";
                }
            } catch (const std::exception&) {
                out += std::string("(") + name + " /metrics did not answer)\n";
            }
        };
        add("api", api_);
        add("relay", relay_);
        for (auto& p : projectors_) add("projector", p);
        return out;
    }

  private:
    void start(std::unique_ptr<ServerProcess>& slot, const std::string& role,
               const std::string& name) {
        const std::string dir = log_dir_ + "/" + name;
        std::filesystem::create_directories(dir);
        std::vector<std::string> args{"--roles",        role,        "--write-db",
                                      config_.write_db, "--read-db", config_.read_db,
                                      "--bus",          config_.bus};
        if (!config_.admin_token.empty()) {
            args.push_back("--admin-token");
            args.push_back(config_.admin_token);
        }
        args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
        if (!slot) slot = std::make_unique<ServerProcess>(ORDINAL_BINARY, std::string(), dir, args);
        slot->start();
    }

    std::string log_dir_;
    TopologyConfig config_;
    std::unique_ptr<ServerProcess> api_;
    std::unique_ptr<ServerProcess> relay_;
    std::vector<std::unique_ptr<ServerProcess>> projectors_;
};

}  // namespace ordinal::test
