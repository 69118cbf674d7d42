#include "app/verify.h"

#include <chrono>
#include <filesystem>

#include "adapters/postgres/postgres_audit.h"
#include "adapters/sqlite/sqlite_audit.h"
#include "app/store_url.h"
#include "core/system_clock.h"

namespace ordinal {
namespace {

template <class Audit>
using Opened = Expected<std::unique_ptr<Audit>, std::string>;

Expected<StoreUrl, std::string> audited_url(const std::string& given, const Settings& s,
                                            const char* file) {
    const std::string url =
        given.empty() ? "sqlite://" + (std::filesystem::path(s.data_dir) / file).string() : given;
    auto parsed = parse_store_url(url);
    if (parsed && parsed->scheme != "sqlite" && parsed->scheme != "postgresql") {
        return unexpected("store '" + parsed->scheme + "' cannot be verified");
    }
    return parsed;
}

template <class Audit, class Sqlite, class Postgres>
Opened<Audit> open_audit(const StoreUrl& url, const char* what, Sqlite sqlite, Postgres postgres) {
    auto audit = url.scheme == "postgresql" ? postgres(url.target) : sqlite(url.target);
    if (!audit)
        return unexpected(std::string("cannot read the ") + what + ": " + audit.error().message);
    return std::move(*audit);
}

}  // namespace

Expected<VerifyReport, std::string> run_verify(const Settings& s) {
    auto write_url = audited_url(s.write_db, s, "write.db");
    if (!write_url) return unexpected(write_url.error());
    auto read_url = audited_url(s.read_db, s, "read.db");
    if (!read_url) return unexpected(read_url.error());
    auto write = open_audit<WriteAudit>(*write_url, "write store", open_sqlite_write_audit,
                                        open_postgres_write_audit);
    if (!write) return unexpected(write.error());
    auto read = open_audit<ReadAudit>(*read_url, "read store", open_sqlite_read_audit,
                                      open_postgres_read_audit);
    if (!read) return unexpected(read.error());

    VerifyOptions options;
    options.max_pending_age_ms = std::int64_t{s.verify_max_pending_age_s} * 1000;
    options.projection_grace_ms = std::int64_t{s.verify_max_projection_lag_s} * 1000;
    options.max_findings = s.verify_max_findings;
    // Both write stores expire idempotency records after the same window.
    options.idempotency_retention_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::hours(s.idempotency_retention_hours))
                                           .count();
    SystemClock clock;
    auto report = verify_stores(**write, **read, clock, options);
    if (!report)
        return unexpected("the stores could not be read to the end: " + report.error().message);
    return std::move(*report);
}

}  // namespace ordinal
