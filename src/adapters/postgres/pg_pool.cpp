#include "adapters/postgres/pg_pool.h"

namespace ordinal::pg {

Pool::Pool(std::string conninfo, std::size_t size) : conninfo_(std::move(conninfo)) {
    if (size == 0) size = 1;
    conns_.resize(size);
    for (std::size_t i = size; i > 0; --i) free_.push_back(i - 1);
}

Pool::Lease Pool::acquire() {
    std::size_t index = 0;
    {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !free_.empty(); });
        index = free_.back();
        free_.pop_back();
    }
    Lease lease(*this, index);
    Connection& c = *lease;
    if (!c.healthy()) {
        if (c.conninfo().empty()) {
            c = Connection::open(conninfo_);
        } else {
            c.reconnect();
        }
    }
    // A connection whose last user left a transaction open (it threw mid-way) starts clean.
    if (c.in_transaction()) c.exec_script("ROLLBACK");
    return lease;
}

void Pool::release(std::size_t index) {
    {
        std::lock_guard lock(mu_);
        free_.push_back(index);
    }
    cv_.notify_one();
}

}  // namespace ordinal::pg
