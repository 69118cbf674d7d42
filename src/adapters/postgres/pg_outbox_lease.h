#pragma once
// Which outbox partitions this process's relay may publish, held as PostgreSQL session-level
// advisory locks on one dedicated connection: partition p is owned while this session holds
// lock (kPartitionLockSpace, p). Only one session can hold it, and a session that ends (process
// killed, connection lost) drops its locks, so a dead relay's partitions are free at once.
//
// Every relay also holds a shared "member" lock (kMemberLockSpace, partition count) so the live
// relays can be counted in pg_locks: each takes at most ceil(partitions / live relays) and hands
// back any excess, so partitions spread over the relays within a couple of refresh intervals.
// Relays configured with different partition counts would split streams differently, so a relay
// that sees a member with another count owns nothing and fails loudly until that is fixed.
//
// Not thread-safe: the owner serializes calls. Methods throw PgFailure; after a failure the
// lease owns nothing (the locks are lost with the session) and the next refresh reconnects.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/postgres/pg_connection.h"

namespace ordinal::pg {

inline constexpr std::int32_t kPartitionLockSpace = 0x6f726450;  // 'ordP'
inline constexpr std::int32_t kMemberLockSpace = 0x6f72644d;     // 'ordM'

struct OutboxLeaseOptions {
    std::string conninfo;
    std::int64_t partitions = 16;
    std::chrono::milliseconds refresh_interval{1000};
    // The server ends the lease session when it sits idle this long (in a transaction or not).
    // TCP keepalives cannot see a relay that is stopped (SIGSTOP, a frozen VM, a hung thread):
    // its kernel still answers them, and its locks would stay held for as long as it stays
    // stopped. A live relay touches the session every round (at most `refresh_interval` plus one
    // publish apart), so only a relay stuck longer than this loses its lease, which costs it a
    // failed round and a re-take. Zero leaves the server's setting. A lease session blocked that
    // long sending to its relay (one that stopped reading) is ended by the other relays
    // (pg_terminate_backend), since the server's idle timeouts never apply to it.
    std::chrono::milliseconds idle_timeout{30000};
};

class OutboxLease {
  public:
    explicit OutboxLease(OutboxLeaseOptions options);
    ~OutboxLease();  // releases every lock before disconnecting
    OutboxLease(const OutboxLease&) = delete;
    OutboxLease& operator=(const OutboxLease&) = delete;

    // Re-balances ownership when the refresh interval has passed (or after a failure) and
    // returns the partitions owned now (sorted). Throws PgFailure.
    const std::vector<std::int64_t>& owned();

    // The session holding the locks: statements run on it succeed only while the locks are
    // held. Call `lost()` when one fails.
    Connection& connection() { return conn_; }
    void lost();

    std::int64_t partitions() const { return options_.partitions; }

  private:
    void refresh();
    void end_sessions_stuck_on_their_client();

    OutboxLeaseOptions options_;
    Connection conn_;
    bool connected_ = false;
    bool member_ = false;
    std::vector<std::int64_t> owned_;
    std::chrono::steady_clock::time_point next_refresh_{};
};

}  // namespace ordinal::pg
