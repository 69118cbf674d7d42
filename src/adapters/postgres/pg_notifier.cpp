#include "adapters/postgres/pg_notifier.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "adapters/postgres/pg_connection.h"
#include "ports/thread_name.h"

namespace ordinal::pg {

const std::string& notify_origin() {
    static const std::string origin = [] {
        std::random_device random;
        const unsigned long long high = random(), low = random();
        return std::to_string(::getpid()) + "-" + std::to_string((high << 32) | low);
    }();
    return origin;
}

Notifier::Notifier(std::string conninfo, std::string channel)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)), thread_([this] { loop(); }) {}

Notifier::~Notifier() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void Notifier::signal() {
    {
        std::lock_guard lock(mu_);
        if (pending_) return;
        pending_ = true;
    }
    cv_.notify_one();
}

void Notifier::loop() {
    name_this_thread("pg-notify");
    Connection conn;
    auto backoff = std::chrono::milliseconds(50);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait(lock, [this] { return stopping_ || pending_; });
        if (stopping_) break;
        pending_ = false;
        lock.unlock();
        bool sent = false;
        try {
            if (!conn.healthy()) {
                if (conn.conninfo().empty()) {
                    conn = Connection::open(conninfo_);
                } else {
                    conn.reconnect();
                }
                conn.exec_script("SET synchronous_commit = off");
            }
            conn.exec("SELECT pg_notify($1, $2)", channel_, notify_origin());
            sent = true;
        } catch (...) {
        }
        lock.lock();
        if (sent) {
            backoff = std::chrono::milliseconds(50);
        } else {
            // Listeners fall back to their polls meanwhile; try again with what is pending then.
            pending_ = true;
            cv_.wait_for(lock, backoff, [this] { return stopping_; });
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
    }
}

}  // namespace ordinal::pg
