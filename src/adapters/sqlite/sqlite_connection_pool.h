#pragma once
// A fixed set of read-only connections to one file, lent one at a time. In WAL mode each reader
// sees the last committed state and neither blocks nor is blocked by the writer.
#include <condition_variable>
#include <mutex>
#include <vector>

#include "adapters/sqlite/sqlite_connection.h"
#include "domain/thread_annotations.h"

namespace ordinal::sqlite {

class SqliteConnectionPool {
  public:
    // Opens `size` (at least 1) read-only connections. Throws StoreFailure.
    SqliteConnectionPool(const std::string& path, std::size_t size);

    // Exclusive use of one connection until the lease is destroyed.
    class Lease {
      public:
        Lease(SqliteConnectionPool& pool, Connection* conn) : pool_(pool), conn_(conn) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_; }

      private:
        SqliteConnectionPool& pool_;
        Connection* conn_;
    };

    // Waits for a free connection. Thread-safe.
    Lease acquire();

  private:
    std::vector<Connection> connections_;  // fixed after construction
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Connection*> free_ GUARDED_BY(mu_);
};

}  // namespace ordinal::sqlite
