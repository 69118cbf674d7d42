#pragma once
// What the two stores' migration runners (postgres/pg_migrations, sqlite/sqlite_migrations)
// share: what a migration is, and how the versions a database records are judged against this
// release's list. Reading and writing the version table, locking and the schema itself stay in
// each store's dialect. Header-only and library-free, like batching_writer_support.h.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace ordinal::migrations {

struct Migration {
    std::int64_t version;  // 1, 2, ... in order; migrations are only ever appended
    const char* name;      // for operators reading the version table
    const char* sql;       // constant DDL, no data
};

using Applied = std::map<std::int64_t, std::string>;  // version -> name, as recorded

// Why a database's recorded versions are not (a prefix of) `migrations`, or nullopt: a version
// this release does not know (a newer release migrated it), or a known version under another
// name (names tell a write-store schema from a read-store one, which would otherwise both look
// like "version 1 applied").
inline std::optional<std::string> foreign(const Applied& applied,
                                          std::span<const Migration> migrations) {
    for (const auto& [version, name] : applied) {
        const Migration* known = nullptr;
        for (const Migration& m : migrations) {
            if (m.version == version) known = &m;
        }
        if (!known)
            return "has schema version " + std::to_string(version) + ", unknown to this release";
        if (name != known->name) return "holds another store's schema ('" + name + "')";
    }
    return std::nullopt;
}

// Why `migrations` are not all applied ("lacks schema version N (run migrate)"), or nullopt.
inline std::optional<std::string> missing(const Applied& applied,
                                          std::span<const Migration> migrations) {
    for (const Migration& m : migrations) {
        if (!applied.count(m.version))
            return "lacks schema version " + std::to_string(m.version) + " (run migrate)";
    }
    return std::nullopt;
}

}  // namespace ordinal::migrations
