#pragma once
// A fixed set of connections shared by threads; a lease is one connection for one thread.
// Connections are opened on first use and reconnected when found broken (the health check), so a
// PostgreSQL restart costs the requests in flight and nothing after it. Thread-safe.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "domain/thread_annotations.h"

namespace ordinal::pg {

class Pool {
  public:
    Pool(std::string conninfo, std::size_t size);

    class Lease {
      public:
        Lease(Pool& pool, std::size_t index) : pool_(&pool), index_(index) {}
        Lease(Lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), index_(o.index_) {}
        Lease(const Lease&) = delete;
        ~Lease() {
            if (pool_) pool_->release(index_);
        }
        Connection& operator*() { return pool_->conns_[index_]; }
        Connection* operator->() { return &pool_->conns_[index_]; }

      private:
        Pool* pool_;
        std::size_t index_;
    };

    // Waits for a free connection and makes sure it is connected. Throws PgFailure{Unavailable}
    // if it cannot connect.
    Lease acquire();

  private:
    void release(std::size_t index);

    std::string conninfo_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Connection> conns_;  // each used by its lease holder only
    std::vector<std::size_t> free_ GUARDED_BY(mu_);
};

}  // namespace ordinal::pg
