#pragma once
// What `ordinal verify` found: findings by invariant family, counts, lag and speed. The human
// form is here; the JSON form is in codec/verify_report_json.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ordinal {

enum class FindingKind : std::uint8_t {
    VersionGap,         // a stream's versions are not 1, 2, 3, ...
    VersionOrder,       // a stream's versions do not follow the outbox order
    InvalidEvent,       // an event that cannot follow the events before it
    WriteMismatch,      // a write-model row differs from the replay of its stream, or lacks one
    StockMismatch,      // stock, stock sequence or reserved quantity differs from the replay
    NegativeStock,      // a stock figure below zero
    DuplicateCommand,   // two events for one idempotency key
    IdempotencyOrphan,  // idempotency records whose event is not in the log
    MissingInRead,      // events older than the grace bound that the read model lacks
    ReadAhead,          // the read model holds versions or streams the log does not have
    ReadMismatch,       // a read row differs from the replay of its stream at its version
    OutboxStale,        // events pending in the outbox longer than the bound
};
inline constexpr std::size_t kFindingKinds = 12;

std::string_view finding_kind_name(FindingKind kind);  // "version_gap", "read_mismatch", ...

struct Finding {
    FindingKind kind = FindingKind::InvalidEvent;
    std::string stream;  // "order/<id>", "product/<sku>"; empty when no one stream is at fault
    std::string detail;
};

struct VerifyReport {
    std::vector<Finding> findings;                     // the first `max_findings`
    std::array<std::int64_t, kFindingKinds> counts{};  // every finding, by kind
    std::int64_t events_checked = 0;
    std::int64_t order_streams = 0;
    std::int64_t product_streams = 0;
    std::int64_t lagging_streams = 0;  // read model behind, within the rules for lag
    std::int64_t lagging_events = 0;
    std::int64_t outbox_pending = 0;  // in the write snapshot
    std::int64_t oldest_pending_age_ms = 0;
    double seconds = 0;

    std::int64_t total_findings() const;
    bool clean() const { return total_findings() == 0; }
    double events_per_second() const;
};

// The human form: a line per listed finding ("DRIFT <kind> <stream>: <detail>"), then a summary
// with the counts, the lag and the speed.
std::string format_verify_report(const VerifyReport& report);

}  // namespace ordinal
