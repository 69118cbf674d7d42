#pragma once
// `ordinal verify`'s view of the PostgreSQL stores (ports/audit_source.h): one connection per
// store, one REPEATABLE READ READ ONLY transaction (a snapshot that concurrent writers neither
// block nor disturb), and server-side cursors fetched a batch at a time, so memory stays flat
// however large the tables are. Rows are ordered with COLLATE "C" (bytewise), whatever the
// database's collation, so two databases merge in the same order. The schema must be migrated:
// an audit never changes anything.
#include <memory>
#include <string>

#include "domain/expected.h"
#include "ports/audit_source.h"
#include "ports/store_error.h"

namespace ordinal {

Expected<std::unique_ptr<WriteAudit>, StoreError> open_postgres_write_audit(
    const std::string& conninfo);
Expected<std::unique_ptr<ReadAudit>, StoreError> open_postgres_read_audit(
    const std::string& conninfo);

}  // namespace ordinal
