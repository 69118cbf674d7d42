// The walk over both snapshots: products first, then orders (whose stock changes complete the
// products' ledgers), then stock, idempotency records and the outbox. Each invariant family has
// its own file; this one only merges the cursors and hands each stream to the checks.
#include "verify/store_verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "domain/replay.h"
#include "verify/difference_text.h"
#include "verify/event_log_check.h"
#include "verify/findings.h"
#include "verify/merge_cursor.h"
#include "verify/read_model_check.h"
#include "verify/stock_check.h"

namespace ordinal {
namespace {

using namespace verify;

template <class State>
struct Replayed {
    std::optional<State> last;
    std::optional<State> at_read;  // after the read model's version
};

class Verifier {
  public:
    Verifier(WriteAudit& write, ReadAudit& read, const Clock& clock, const VerifyOptions& options)
        : write_(write),
          read_(read),
          clock_(clock),
          options_(options),
          findings_(report_, options.max_findings),
          log_(findings_, report_, options.idempotency_retention_ms) {}

    Expected<VerifyReport, StoreError> run() {
        const auto started = std::chrono::steady_clock::now();
        auto before = write_.outbox();
        if (!before) return unexpected(before.error());
        ReadSnapshotTimes times;
        times.oldest_pending_before_ms =
            before->oldest_pending_created_ms.value_or(std::numeric_limits<std::int64_t>::max());
        times.taken_ms = clock_.unix_ms();
        times.projection_grace_ms = options_.projection_grace_ms;
        if (auto ok = read_.begin_snapshot(); !ok) return unexpected(ok.error());
        const std::int64_t write_taken_ms = clock_.unix_ms();
        if (auto ok = write_.begin_snapshot(); !ok) return unexpected(ok.error());
        read_check_.emplace(findings_, report_, times);

        if (auto ok = check_products(); !ok || error_) return unexpected(ok ? *error_ : ok.error());
        if (auto ok = check_orders(); !ok || error_) return unexpected(ok ? *error_ : ok.error());
        for (const auto& [sku, ledger] : products_) {
            check_stock(describe_stream(StreamKey{StreamType::Product, sku}), ledger, findings_);
        }
        auto records = write_.idempotency_records();
        if (!records) return unexpected(records.error());
        if (*records != log_.matched_records()) {
            findings_.add(FindingKind::IdempotencyOrphan, "",
                          std::to_string(*records - log_.matched_records()) + " of " +
                              std::to_string(*records) +
                              " idempotency records name an event the log does not have");
        }
        auto outbox = write_.outbox();
        if (!outbox) return unexpected(outbox.error());
        check_outbox(*outbox, write_taken_ms);
        report_.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return std::move(report_);
    }

  private:
    template <class Row, class Open>
    Expected<Rows<Row>, StoreError> open(Open&& open_cursor) {
        auto cursor = open_cursor();
        if (!cursor) return unexpected(cursor.error());
        return Rows<Row>(std::move(*cursor), error_);
    }

    // Folds the events of stream `id` off the head of `events` with `replay(before, event)`;
    // `on_event(state, event)` runs after each event that fits.
    template <class State, class Replay, class OnEvent>
    Replayed<State> replay_stream(Rows<AuditedEvent>& events, const std::string& id, StreamWalk& w,
                                  Replay replay, OnEvent on_event) {
        Replayed<State> out;
        while (const AuditedEvent* head = events.peek()) {
            if (head->event.stream.id != id) break;
            const AuditedEvent e = events.take();
            if (!log_.walk(w, e)) continue;
            auto next = replay(out.last, e.event);
            if (!next) {
                log_.refuse(w, e, next.error());
                continue;
            }
            out.last = std::move(*next);
            on_event(*out.last, e.event);
            if (e.event.version == w.read_version) out.at_read = out.last;
        }
        return out;
    }

    // `differences(row, state)` names the fields of a row that differ from the replay.
    template <class Row, class State, class Diff>
    void judge_write_row(const StreamWalk& w, const std::optional<Row>& row,
                         const std::optional<State>& state, Diff differences) {
        if (row && !state) {
            findings_.add(FindingKind::WriteMismatch, w.name,
                          "write-model row, but the event log has no such stream");
        } else if (!row && state) {
            findings_.add(FindingKind::WriteMismatch, w.name,
                          "no write-model row; event log version " + std::to_string(w.log_version));
        } else if (state) {
            const std::string diff = differences(*row, *state);
            if (!diff.empty()) {
                findings_.add(FindingKind::WriteMismatch, w.name, "write model " + diff);
            }
        }
    }

    template <class Row, class State, class Diff>
    ReadVerdict judge_read_row(const StreamWalk& w, const std::optional<Row>& row,
                               const std::optional<State>& at_read, Diff differences) {
        const ReadVerdict verdict = read_check_->judge_version(w, row.has_value());
        if (verdict.compare) {
            const std::string diff = differences(*row, *at_read);
            if (!diff.empty()) {
                findings_.add(FindingKind::ReadMismatch, w.name, "read model " + diff);
            }
        }
        return verdict;
    }

    Expected<void, StoreError> check_products() {
        auto events = open<AuditedEvent>([&] { return write_.events(StreamType::Product); });
        if (!events) return unexpected(events.error());
        auto written = open<Product>([&] { return write_.products(); });
        if (!written) return unexpected(written.error());
        auto viewed = open<ProductViewRow>([&] { return read_.products(); });
        if (!viewed) return unexpected(viewed.error());
        while (auto sku = next_key(*events, *written, *viewed)) {
            ProductLedger& ledger = products_[*sku];
            ledger.write_row = take_if(*written, *sku);
            ledger.read_row = take_if(*viewed, *sku);
            StreamWalk w;
            w.name = describe_stream(StreamKey{StreamType::Product, *sku});
            w.read_version = ledger.read_row ? ledger.read_row->view.version : 0;
            const auto replayed = replay_stream<Product>(
                *events, *sku, w, replay_product_event, [&](const Product& p, const Event& e) {
                    ledger.upserted = true;
                    ledger.upsert_stock = p.stock;
                    ledger.upsert_seq = p.stock_seq;
                    ledger.add_figure(p.stock_seq, p.stock, e.version <= w.read_version);
                });
            if (w.broken) {
                ledger.read_judged = true;
                continue;
            }
            if (replayed.last) ++report_.product_streams;
            judge_write_row(w, ledger.write_row, replayed.last,
                            [](const Product& row, const Product& want) {
                                return catalogue_differences(catalogue_of(row), want);
                            });
            ledger.read_judged = judge_read_row(w, ledger.read_row, replayed.at_read,
                                                [](const ProductViewRow& row, const Product& want) {
                                                    return catalogue_differences(row.view, want);
                                                })
                                     .drift;
        }
        return {};
    }

    // The stock changes of an OrderPlaced (quantities out) or OrderCancelled (back in).
    void account_stock(const Order& order, const Event& e, bool applied) {
        const std::vector<StockChange>* changes = nullptr;
        std::int64_t sign = 0;
        if (const auto* placed = std::get_if<OrderPlaced>(&e.data)) {
            changes = &placed->stock_changes;
            sign = -1;
        } else if (const auto* cancelled = std::get_if<OrderCancelled>(&e.data)) {
            changes = &cancelled->stock_changes;
            sign = 1;
        } else {
            return;
        }
        // replay_order_event made sure there is one change per line, in line order.
        for (std::size_t i = 0; i < changes->size(); ++i) {
            const StockChange& c = (*changes)[i];
            ProductLedger& p = products_[c.sku];
            p.add_figure(c.stock_seq, c.stock, applied);
            if (c.stock_seq > p.upsert_seq) p.delta_after_upsert += sign * order.lines[i].qty;
        }
    }

    Expected<void, StoreError> check_orders() {
        auto events = open<AuditedEvent>([&] { return write_.events(StreamType::Order); });
        if (!events) return unexpected(events.error());
        auto written = open<Order>([&] { return write_.orders(); });
        if (!written) return unexpected(written.error());
        auto viewed = open<Order>([&] { return read_.orders(); });
        if (!viewed) return unexpected(viewed.error());
        while (auto id = next_key(*events, *written, *viewed)) {
            const std::optional<Order> write_row = take_if(*written, *id);
            const std::optional<Order> read_row = take_if(*viewed, *id);
            StreamWalk w;
            w.name = describe_stream(StreamKey{StreamType::Order, *id});
            w.read_version = read_row ? read_row->version : 0;
            const auto replayed = replay_stream<Order>(
                *events, *id, w, replay_order_event, [&](const Order& o, const Event& e) {
                    account_stock(o, e, e.version <= w.read_version);
                });
            const std::optional<Order>& state = replayed.last;
            // Even a broken stream reserves what its valid prefix placed, so its products are
            // not reported again for a reserved figure that follows from the same fault.
            if (state && state->status != OrderStatus::Cancelled) {
                for (const OrderLine& l : state->lines) products_[l.sku].reserved += l.qty;
            }
            if (w.broken) continue;
            if (state) ++report_.order_streams;
            judge_write_row(w, write_row, state, order_differences);
            judge_read_row(w, read_row, replayed.at_read, order_differences);
        }
        return {};
    }

    void check_outbox(const OutboxAudit& outbox, std::int64_t now_ms) {
        report_.outbox_pending = outbox.pending;
        if (!outbox.oldest_pending_created_ms) return;
        report_.oldest_pending_age_ms =
            std::max<std::int64_t>(0, now_ms - *outbox.oldest_pending_created_ms);
        if (report_.oldest_pending_age_ms > options_.max_pending_age_ms) {
            findings_.add(FindingKind::OutboxStale, "",
                          std::to_string(outbox.pending) +
                              " events pending in the outbox, the oldest for " +
                              seconds_text(report_.oldest_pending_age_ms) + " (bound " +
                              seconds_text(options_.max_pending_age_ms) + ")");
        }
    }

    WriteAudit& write_;
    ReadAudit& read_;
    const Clock& clock_;
    VerifyOptions options_;
    VerifyReport report_;
    Findings findings_;
    EventLogCheck log_;
    std::optional<ReadModelCheck> read_check_;  // once the read snapshot's times are known
    std::optional<StoreError> error_;
    std::map<std::string, ProductLedger> products_;
};

}  // namespace

Expected<VerifyReport, StoreError> verify_stores(WriteAudit& write, ReadAudit& read,
                                                 const Clock& clock, const VerifyOptions& options) {
    return Verifier(write, read, clock, options).run();
}

}  // namespace ordinal
