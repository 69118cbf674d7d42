#pragma once
// `ordinal verify`'s view of the embedded stores (ports/audit_source.h): each file is read
// through one read-only connection inside one read transaction, which WAL turns into a snapshot
// that writers running beside it do not disturb. Rows are stepped straight off SQLite's cursors
// (no result sets in memory). The files must exist and carry this release's schema: an audit
// never creates or migrates anything. A long audit keeps the WAL from being checkpointed past
// its snapshot until it ends.
#include <memory>
#include <string>

#include "domain/expected.h"
#include "ports/audit_source.h"
#include "ports/store_error.h"

namespace ordinal {

Expected<std::unique_ptr<WriteAudit>, StoreError> open_sqlite_write_audit(const std::string& path);
Expected<std::unique_ptr<ReadAudit>, StoreError> open_sqlite_read_audit(const std::string& path);

}  // namespace ordinal
