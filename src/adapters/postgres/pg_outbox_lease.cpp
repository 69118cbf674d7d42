#include "adapters/postgres/pg_outbox_lease.h"

#include <algorithm>

namespace ordinal::pg {

OutboxLease::OutboxLease(OutboxLeaseOptions options) : options_(std::move(options)) {
    if (options_.partitions < 1) options_.partitions = 1;
}

OutboxLease::~OutboxLease() {
    // Release at once rather than when the server notices the closed socket, so a store opened
    // right after this one (a restart in the same process) finds the partitions free.
    if (!connected_) return;
    try {
        conn_.exec_script("SELECT pg_advisory_unlock_all()");
    } catch (...) {
    }
}

void OutboxLease::lost() {
    owned_.clear();
    member_ = false;
    connected_ = false;
    next_refresh_ = {};
}

const std::vector<std::int64_t>& OutboxLease::owned() {
    if (connected_ && !conn_.healthy()) lost();  // the session, and with it every lock, is gone
    if (!connected_ || std::chrono::steady_clock::now() >= next_refresh_) {
        try {
            refresh();
        } catch (...) {
            lost();
            throw;
        }
        next_refresh_ = std::chrono::steady_clock::now() + options_.refresh_interval;
    }
    return owned_;
}

void OutboxLease::refresh() {
    if (!connected_) {
        if (conn_.conninfo().empty()) {
            conn_ = Connection::open(options_.conninfo);
        } else {
            conn_.reconnect();  // a new session: whatever the old one held is gone
        }
        connected_ = true;
        owned_.clear();
        member_ = false;
        if (options_.idle_timeout.count() > 0) {
            const std::string ms = std::to_string(options_.idle_timeout.count());
            conn_.exec_script("SET idle_session_timeout = " + ms +
                              "; SET idle_in_transaction_session_timeout = " + ms);
        }
    }
    if (options_.idle_timeout.count() > 0) end_sessions_stuck_on_their_client();
    const std::int64_t n = options_.partitions;
    if (!member_) {
        conn_.exec("SELECT pg_advisory_lock_shared($1::int, $2::int)", kMemberLockSpace, n);
        member_ = true;
    }
    // Live relays of this database, by their partition count.
    Result members = conn_.exec(
        "SELECT objid::bigint, COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objsubid = 2 AND classid::bigint = $1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "GROUP BY objid",
        static_cast<std::int64_t>(kMemberLockSpace));
    std::int64_t live = 0;
    for (int i = 0; i < members.rows(); ++i) {
        if (members.int64(i, 0) != n) {
            // Release everything: two partitionings at once could hand one stream to two relays.
            conn_.exec_script("SELECT pg_advisory_unlock_all()");
            owned_.clear();
            member_ = false;
            throw_internal("relays disagree on the outbox partition count (" + std::to_string(n) +
                           " here, " + std::to_string(members.int64(i, 0)) +
                           " elsewhere): this relay owns no partition until they agree");
        }
        live += members.int64(i, 1);
    }
    live = std::max<std::int64_t>(live, 1);
    const auto share = static_cast<std::size_t>((n + live - 1) / live);

    while (owned_.size() > share) {  // hand the excess back, from the top
        conn_.exec("SELECT pg_advisory_unlock($1::int, $2::int)", kPartitionLockSpace,
                   owned_.back());
        owned_.pop_back();
    }
    if (owned_.size() < share) {
        // Candidates are filtered first (a CTE) so no owned partition is locked twice (session
        // locks stack); LIMIT stops the tries once the share is reached.
        Result taken = conn_.exec(
            "WITH free AS MATERIALIZED (SELECT p FROM generate_series(0, $2::int - 1) p "
            "WHERE p <> ALL($3::int[]) ORDER BY random()) "
            "SELECT p FROM free WHERE pg_try_advisory_lock($1::int, p) LIMIT $4",
            kPartitionLockSpace, n, owned_, static_cast<std::int64_t>(share - owned_.size()));
        for (int i = 0; i < taken.rows(); ++i) owned_.push_back(taken.int64(i, 0));
        std::sort(owned_.begin(), owned_.end());
    }
}

// The server ends a lease session idle too long, but only one waiting for its relay's next
// command: a session blocked sending to a relay that stopped reading (SIGSTOP, a frozen VM, with
// a fetched batch still on its way) is active, never idle, and sits in that send until TCP gives
// up. Over TCP on Linux 5.11 or later the server's tcp_user_timeout ends it (a closed receive
// window counts), but over a Unix socket, or from a server whose kernel keeps probing a closed
// window forever, nothing would, and the stopped relay would keep its partitions for as long as
// it stays stopped. So every relay ends such sessions of its own role itself, by the same rule
// as the idle timeout: blocked on its client for longer than that.
void OutboxLease::end_sessions_stuck_on_their_client() {
    conn_.exec(
        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a "
        "WHERE a.pid <> pg_backend_pid() AND a.datname = current_database() "
        "AND a.usename = current_user AND a.wait_event = 'ClientWrite' "
        "AND a.state_change < now() - $3::float8 * interval '1 millisecond' "
        "AND a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.objsubid = 2 AND l.classid::bigint IN ($1, $2))",
        static_cast<std::int64_t>(kPartitionLockSpace), static_cast<std::int64_t>(kMemberLockSpace),
        static_cast<std::int64_t>(options_.idle_timeout.count()));
}

}  // namespace ordinal::pg
