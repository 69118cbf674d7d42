// The store contract suites run against the embedded SQLite stores.
#include "support/sqlite_backend.h"

namespace ordinal::contract {

INSTANTIATE_TEST_SUITE_P(Sqlite, WriteStoreContract, ::testing::Values(sqlite_backend()),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, ReadStoreContract, ::testing::Values(sqlite_backend()),
                         backend_name);

}  // namespace ordinal::contract
