#include "adapters/sqlite/sqlite_connection_pool.h"

namespace ordinal::sqlite {

SqliteConnectionPool::SqliteConnectionPool(const std::string& path, std::size_t size) {
    ConnectionOptions options;
    options.path = path;
    options.create = false;  // the writer created and migrated the file already
    options.read_only = true;
    const std::size_t count = size == 0 ? 1 : size;
    connections_.reserve(count);  // no reallocation afterwards: free_ points into it
    for (std::size_t i = 0; i < count; ++i) connections_.push_back(Connection::open(options));
    for (Connection& c : connections_) free_.push_back(&c);
}

SqliteConnectionPool::Lease SqliteConnectionPool::acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    Connection* conn = free_.back();
    free_.pop_back();
    return Lease(*this, conn);
}

SqliteConnectionPool::Lease::~Lease() {
    // A failed query may have left a read transaction open; the next borrower must start clean.
    conn_->rollback_quietly();
    {
        std::lock_guard lock(pool_.mu_);
        pool_.free_.push_back(conn_);
    }
    pool_.cv_.notify_one();
}

}  // namespace ordinal::sqlite
