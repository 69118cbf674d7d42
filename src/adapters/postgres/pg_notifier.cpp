#include "adapters/postgres/pg_notifier.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "codec/batch_streams.h"

namespace ordinal::pg {

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

namespace {

// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a few hundred streams at most fit.
constexpr std::size_t kMaxPayload = 7999;
constexpr std::size_t kMaxStreams = 100;

}  // namespace

void Notifier::signal() {
    {
        std::lock_guard lock(mu_);
        unnamed_ = true;
        streams_.clear();
        if (pending_) return;
        pending_ = true;
    }
    cv_.notify_one();
}

void Notifier::signal(std::span<const std::pair<StreamKey, std::int64_t>> advanced) {
    if (advanced.empty()) return;  // nothing a listener waits for moved
    {
        std::lock_guard lock(mu_);
        if (!unnamed_) {
            for (const auto& [stream, version] : advanced) {
                std::int64_t& at = streams_[stream];
                at = std::max(at, version);
            }
            if (streams_.size() > kMaxStreams) {
                unnamed_ = true;
                streams_.clear();
            }
        }
        if (pending_) return;
        pending_ = true;
    }
    cv_.notify_one();
}

void Notifier::loop() {
    Connection conn;
    auto backoff = std::chrono::milliseconds(50);
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait(lock, [this] { return stopping_ || pending_; });
        if (stopping_) break;
        pending_ = false;
        std::string payload;
        if (!unnamed_) {
            const std::vector<std::pair<StreamKey, std::int64_t>> named(streams_.begin(),
                                                                        streams_.end());
            payload = encode_batch_streams(named);
            if (payload.size() > kMaxPayload) payload.clear();
        }
        unnamed_ = false;
        streams_.clear();
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
            conn.exec("SELECT pg_notify($1, $2)", channel_, payload);
            sent = true;
        } catch (...) {
        }
        lock.lock();
        if (sent) {
            backoff = std::chrono::milliseconds(50);
        } else {
            // Listeners fall back to their polls meanwhile; try again with what is pending then,
            // unnamed (what this one named is not kept).
            pending_ = true;
            unnamed_ = true;
            streams_.clear();
            cv_.wait_for(lock, backoff, [this] { return stopping_; });
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
    }
}

}  // namespace ordinal::pg
