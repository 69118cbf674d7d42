#include "adapters/postgres/pg_idempotency_retention.h"

#include "adapters/postgres/pg_connection.h"

namespace ordinal::pg {

IdempotencyRetention::IdempotencyRetention(RetentionOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), thread_([this] { loop(); }) {}

IdempotencyRetention::~IdempotencyRetention() {
    stop_.stop();
    thread_.join();
}

void IdempotencyRetention::loop() {
    Connection conn;
    bool leader = false;
    do {
        try {
            if (!conn.healthy()) {
                leader = false;  // a new session holds no lock
                conn = Connection::open(options_.conninfo);
            }
            if (!leader) {
                Result r =
                    conn.exec("SELECT pg_try_advisory_lock($1::int, 0)", kRetentionLockSpace);
                leader = r.text(0, 0) == "t";
            }
            if (!leader) continue;
            // The same cutoff for the whole sweep; one short statement per batch, each its own
            // transaction, so no long lock on the table and no large WAL burst.
            const std::int64_t cutoff = clock_.unix_ms() - options_.retention.count();
            for (;;) {
                Result r = conn.exec(
                    "DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency "
                    "WHERE created_ms < $1 ORDER BY created_ms LIMIT $2)",
                    cutoff, options_.batch_rows);
                if (r.affected() < options_.batch_rows || !stop_.wait(options_.pause)) break;
            }
        } catch (...) {
            // The server is away or the statement failed: nothing is half-done (each batch is
            // its own transaction); try again next sweep.
            leader = false;
            conn = Connection();  // reconnect (and contend for leadership) on the next sweep
        }
    } while (stop_.wait(options_.interval));
}

}  // namespace ordinal::pg
