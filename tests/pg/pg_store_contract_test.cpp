// The store contract suites (tests/contract/*_contract_test.cpp, compiled into this binary too)
// run unchanged against the PostgreSQL stores, each test in a fresh database.
#include "support/postgres_backend.h"

namespace ordinal::contract {

INSTANTIATE_TEST_SUITE_P(Postgres, WriteStoreContract, ::testing::Values(postgres_backend()),
                         backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, ReadStoreContract, ::testing::Values(postgres_backend()),
                         backend_name);

}  // namespace ordinal::contract
