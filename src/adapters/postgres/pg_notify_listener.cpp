// LISTEN on a connection of its own. The notifications are sent once the transactions they
// announce have committed (pg::Notifier: pg_read_store's apply() for ordinal_projection, the
// batching writer for ordinal_outbox), so one arrives only once what it announces is visible.
// Notifications this process sent (payload: pg::notify_origin()) are skipped.
#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "adapters/postgres/pg_notifier.h"
#include "adapters/postgres/postgres_stores.h"
#include "ports/thread_name.h"

namespace ordinal {
namespace {

class PgNotifyListenerImpl final : public PgNotifyListener {
  public:
    PgNotifyListenerImpl(std::string conninfo, PgChannel channel, std::function<void()> on_progress)
        : conninfo_(std::move(conninfo)),
          channel_(channel),
          on_progress_(std::move(on_progress)),
          wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
          thread_([this] { loop(); }) {}

    ~PgNotifyListenerImpl() override {
        stopping_.store(true);
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0 && ::write(wake_fd_, &one, sizeof one) < 0) {
            // poll() times out within a second anyway
        }
        thread_.join();
        if (wake_fd_ >= 0) ::close(wake_fd_);
    }

  private:
    // Waits until `fd` is readable, the timeout passes or the listener stops; false if stopping.
    bool wait_readable(int fd, int timeout_ms) {
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
        ::poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
        return !stopping_.load();
    }

    PGconn* connect() {
        const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
        const char* values[] = {"5", "ordinal-listen", conninfo_.c_str(), nullptr};
        PGconn* conn = PQconnectdbParams(keys, values, 1);
        if (!conn) return nullptr;
        if (PQstatus(conn) == CONNECTION_OK) {
            PQsetNoticeProcessor(
                conn, [](void*, const char*) {}, nullptr);
            PGresult* r =
                PQexec(conn, channel_ == PgChannel::Projection ? "LISTEN ordinal_projection"
                                                               : "LISTEN ordinal_outbox");
            const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (ok) return conn;
        }
        PQfinish(conn);
        return nullptr;
    }

    void loop() {
        name_this_thread("pg-listen");
        PGconn* conn = nullptr;
        int backoff_ms = 100;
        while (!stopping_.load()) {
            if (!conn) {
                conn = connect();
                if (!conn) {
                    wait_readable(-1, backoff_ms);
                    backoff_ms = std::min(backoff_ms * 2, 2000);
                    continue;
                }
                backoff_ms = 100;
                on_progress_();  // whatever committed while we were not listening
            }
            if (!wait_readable(PQsocket(conn), 1000)) break;
            if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = nullptr;
                continue;
            }
            // What this process sent itself is skipped: its writers wake its relay and its
            // projector its gate directly, and each would otherwise cost a wake-up here and,
            // for a gate with waiters, a read of their streams.
            bool any = false;
            while (PGnotify* n = PQnotifies(conn)) {
                if (pg::notify_origin() != n->extra) any = true;
                PQfreemem(n);
            }
            if (any) on_progress_();
        }
        if (conn) PQfinish(conn);
    }

    const std::string conninfo_;
    const PgChannel channel_;
    const std::function<void()> on_progress_;
    const int wake_fd_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace

std::unique_ptr<PgNotifyListener> start_postgres_listener(const std::string& conninfo,
                                                          PgChannel channel,
                                                          std::function<void()> on_progress) {
    return std::make_unique<PgNotifyListenerImpl>(conninfo, channel, std::move(on_progress));
}

}  // namespace ordinal
