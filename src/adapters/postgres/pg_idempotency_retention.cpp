#include "adapters/postgres/pg_idempotency_retention.h"

#include <utility>

namespace ordinal::pg {

IdempotencyRetention::IdempotencyRetention(std::string conninfo, RetentionOptions options,
                                           const Clock& clock)
    : conninfo_(std::move(conninfo)),
      sweeper_(
          options, clock,
          {[this] { return lead(); },
           [this](std::int64_t cutoff, std::int64_t rows) { return delete_batch(cutoff, rows); }}) {
}

bool IdempotencyRetention::lead() {
    try {
        if (!conn_.healthy()) {
            leader_ = false;  // a new session holds no lock
            conn_ = Connection::open(conninfo_);
        }
        if (!leader_) {
            Result r = conn_.exec("SELECT pg_try_advisory_lock($1::int, 0)", kRetentionLockSpace);
            leader_ = r.text(0, 0) == "t";
        }
    } catch (...) {
        leader_ = false;
        conn_ = Connection();  // reconnect (and contend for leadership) on the next sweep
    }
    return leader_;
}

std::optional<std::int64_t> IdempotencyRetention::delete_batch(std::int64_t cutoff,
                                                               std::int64_t rows) {
    try {
        Result r = conn_.exec(
            "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "
            "WHERE created_ms < $1 ORDER BY created_ms LIMIT $2)",
            cutoff, rows);
        return r.affected();
    } catch (...) {
        // The server is away or the statement failed: nothing is half-done (each batch is its
        // own transaction); try again next sweep.
        leader_ = false;
        conn_ = Connection();
        return std::nullopt;
    }
}

}  // namespace ordinal::pg
