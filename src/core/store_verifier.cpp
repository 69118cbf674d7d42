#include "core/store_verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/projection_sequencer.h"
#include "domain/replay.h"

namespace ordinal {
namespace {

// A cursor with one row of look-ahead, for merging by key. The first failure is kept in the
// verifier's error slot and ends every cursor, so a failed run stops soon and reports the error.
template <class Row>
class Rows {
  public:
    Rows(std::unique_ptr<AuditCursor<Row>> cursor, std::optional<StoreError>& error)
        : cursor_(std::move(cursor)), error_(error) {}

    const Row* peek() {
        if (!loaded_ && !error_) {
            auto row = cursor_->next();
            if (row) {
                head_ = std::move(*row);
            } else {
                error_ = row.error();
            }
            loaded_ = true;
        }
        return error_ || !head_ ? nullptr : &*head_;
    }

    Row take() {
        peek();
        Row row = std::move(*head_);
        head_.reset();
        loaded_ = false;
        return row;
    }

  private:
    std::unique_ptr<AuditCursor<Row>> cursor_;
    std::optional<StoreError>& error_;
    std::optional<Row> head_;
    bool loaded_ = false;
};

const std::string& key_of(const AuditedEvent& e) {
    return e.event.stream.id;
}
const std::string& key_of(const Order& o) {
    return o.id;
}
const std::string& key_of(const Product& p) {
    return p.sku;
}
const std::string& key_of(const ProductViewRow& p) {
    return p.view.sku;
}

// The smallest key at the head of any of `rows`; nullopt once all are exhausted.
template <class... R>
std::optional<std::string> next_key(Rows<R>&... rows) {
    std::optional<std::string> key;
    auto consider = [&key](const auto* row) {
        if (row && (!key || key_of(*row) < *key)) key = key_of(*row);
    };
    (consider(rows.peek()), ...);
    return key;
}

template <class Row>
std::optional<Row> take_if(Rows<Row>& rows, const std::string& key) {
    const Row* head = rows.peek();
    if (!head || key_of(*head) != key) return std::nullopt;
    return rows.take();
}

std::string show(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("null");
}

std::string show(const std::vector<OrderLine>& lines) {
    std::string out = "[";
    for (const OrderLine& l : lines) {
        if (out.size() > 1) out += ",";
        out += l.sku + "x" + std::to_string(l.qty) + "@" + std::to_string(l.unit_price_minor);
    }
    return out + "]";
}

std::string show(std::string_view s) {
    return std::string(s);
}
std::string show(std::int64_t v) {
    return std::to_string(v);
}

// Collects "field have (replay want)" for every field that differs.
class Differences {
  public:
    template <class T>
    Differences& field(const char* name, const T& have, const T& want) {
        if (have != want) {
            if (!text_.empty()) text_ += ", ";
            text_ += std::string(name) + " " + show(have) + " (replay: " + show(want) + ")";
        }
        return *this;
    }
    Differences& field(const char* name, const std::vector<OrderLine>& have,
                       const std::vector<OrderLine>& want) {
        const auto same = [](const OrderLine& a, const OrderLine& b) {
            return a.sku == b.sku && a.qty == b.qty && a.unit_price_minor == b.unit_price_minor;
        };
        if (std::equal(have.begin(), have.end(), want.begin(), want.end(), same)) return *this;
        return field(name, show(have), show(want));
    }
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

std::string order_differences(const Order& have, const Order& want) {
    return Differences()
        .field("userId", have.user_id, want.user_id)
        .field("status", order_status_name(have.status), order_status_name(want.status))
        .field("currency", have.currency, want.currency)
        .field("items", have.lines, want.lines)
        .field("totalMinor", have.total_minor, want.total_minor)
        .field("version", have.version, want.version)
        .field("createdAt", have.created_at, want.created_at)
        .field("updatedAt", have.updated_at, want.updated_at)
        .text();
}

std::string catalogue_differences(const ProductView& have, const Product& want) {
    return Differences()
        .field("name", have.name, want.name)
        .field("currency", have.currency, want.currency)
        .field("priceMinor", have.price_minor, want.price_minor)
        .field("version", have.version, want.version)
        .text();
}

ProductView catalogue_of(const Product& p) {
    return ProductView{p.sku, p.name, p.currency, p.price_minor, p.stock, p.version};
}

std::string seconds_text(std::int64_t ms) {
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// What one stream's events say, as far as they were walked.
struct StreamWalk {
    std::string name;               // "order/<id>"
    std::int64_t read_version = 0;  // applied by the read model (0: no row)
    std::int64_t log_version = 0;   // last version in the log
    std::int64_t last_seq = 0;
    std::optional<std::int64_t> first_unapplied_created_ms;
    bool broken = false;  // a finding about the log itself: its rows are not judged
};

// Everything about one product, gathered across the product's own stream and every order's
// stock changes. Sequence numbers are fingerprinted (count, sum, sum of squares, mod 2^64) to
// check they are 1..n without keeping them.
struct ProductLedger {
    bool upserted = false;     // the log has its ProductUpserted events
    bool read_judged = false;  // its read row already has a finding
    std::optional<std::int64_t> upsert_stock;
    std::int64_t upsert_seq = 0;
    std::int64_t delta_after_upsert = 0;  // -placed +cancelled quantities after the last upsert
    std::int64_t reserved = 0;            // quantities of non-cancelled orders
    std::uint64_t seq_count = 0, seq_sum = 0, seq_square_sum = 0;
    std::int64_t max_seq = 0;
    std::optional<std::int64_t> figure_at_max;
    std::int64_t max_applied_seq = 0;  // among the events the read model applied
    std::optional<std::int64_t> figure_at_max_applied;
    std::optional<Product> write_row;
    std::optional<ProductViewRow> read_row;

    void add_figure(std::int64_t seq, const std::optional<std::int64_t>& figure, bool applied) {
        const auto s = static_cast<std::uint64_t>(seq);
        ++seq_count;
        seq_sum += s;
        seq_square_sum += s * s;
        if (seq > max_seq) {
            max_seq = seq;
            figure_at_max = figure;
        }
        if (applied && seq > max_applied_seq) {
            max_applied_seq = seq;
            figure_at_max_applied = figure;
        }
    }

    bool seqs_are_one_to_n() const {
        const auto n = static_cast<std::uint64_t>(max_seq);
        // n(n+1)/2 and n(n+1)(2n+1)/6 mod 2^64: divide before multiplying so nothing is lost.
        const std::uint64_t a = n % 2 == 0 ? n / 2 * (n + 1) : (n + 1) / 2 * n;
        std::uint64_t x = n, y = n + 1, z = 2 * n + 1;
        (x % 2 == 0 ? x : y) /= 2;
        (x % 3 == 0 ? x : (y % 3 == 0 ? y : z)) /= 3;
        return seq_count == n && seq_sum == a && seq_square_sum == x * y * z;
    }
};

class Verifier {
  public:
    Verifier(WriteAudit& write, ReadAudit& read, const Clock& clock, const VerifyOptions& options)
        : write_(write), read_(read), clock_(clock), options_(options) {}

    Expected<VerifyReport, StoreError> run() {
        const auto started = std::chrono::steady_clock::now();
        auto before = write_.outbox();
        if (!before) return unexpected(before.error());
        oldest_pending_before_read_ =
            before->oldest_pending_created_ms.value_or(std::numeric_limits<std::int64_t>::max());
        read_taken_ms_ = clock_.unix_ms();
        if (auto ok = read_.begin_snapshot(); !ok) return unexpected(ok.error());
        const std::int64_t write_taken_ms = clock_.unix_ms();
        if (auto ok = write_.begin_snapshot(); !ok) return unexpected(ok.error());

        if (auto ok = check_products(); !ok || error_) return unexpected(ok ? *error_ : ok.error());
        if (auto ok = check_orders(); !ok || error_) return unexpected(ok ? *error_ : ok.error());
        finish_products();
        auto records = write_.idempotency_records();
        if (!records) return unexpected(records.error());
        if (*records != matched_records_) {
            add(FindingKind::IdempotencyOrphan, "",
                std::to_string(*records - matched_records_) + " of " + std::to_string(*records) +
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
    void add(FindingKind kind, std::string stream, std::string detail) {
        ++report_.counts[static_cast<std::size_t>(kind)];
        if (report_.findings.size() < options_.max_findings) {
            report_.findings.push_back(Finding{kind, std::move(stream), std::move(detail)});
        }
    }

    template <class Row, class Open>
    Expected<Rows<Row>, StoreError> open(Open&& open_cursor) {
        auto cursor = open_cursor();
        if (!cursor) return unexpected(cursor.error());
        return Rows<Row>(std::move(*cursor), error_);
    }

    // Version and outbox order of the next event; false once the stream is broken.
    bool walk(StreamWalk& w, const AuditedEvent& e) {
        ++report_.events_checked;
        check_command(w, e);
        if (w.broken) return false;
        const std::int64_t v = e.event.version;
        if (v != w.log_version + 1) {
            add(FindingKind::VersionGap, w.name,
                "version " + std::to_string(v) + " follows version " +
                    std::to_string(w.log_version) + " in the event log");
            w.broken = true;
            return false;
        }
        if (e.seq <= w.last_seq) {
            add(FindingKind::VersionOrder, w.name,
                "version " + std::to_string(v) + " (outbox seq " + std::to_string(e.seq) +
                    ") was committed before version " + std::to_string(v - 1) + " (seq " +
                    std::to_string(w.last_seq) + ")");
            w.broken = true;
            return false;
        }
        w.log_version = v;
        w.last_seq = e.seq;
        if (v == w.read_version + 1) w.first_unapplied_created_ms = e.created_ms;
        return true;
    }

    void refuse(StreamWalk& w, const AuditedEvent& e, const std::string& why) {
        add(FindingKind::InvalidEvent, w.name,
            "version " + std::to_string(e.event.version) + ": " + why);
        w.broken = true;
    }

    // One event per command: the record under the event's key must name this event.
    void check_command(const StreamWalk& w, const AuditedEvent& e) {
        if (!e.record) return;
        if (e.record->event_id == e.event.event_id) {
            ++matched_records_;
            return;
        }
        const bool expired_and_reused =
            options_.idempotency_retention_ms > 0 &&
            e.record->created_ms - e.created_ms >= options_.idempotency_retention_ms;
        if (expired_and_reused) return;
        add(FindingKind::DuplicateCommand, w.name,
            "version " + std::to_string(e.event.version) + " (event " + e.event.event_id +
                ") was caused by key " + e.event.causation_id + ", whose command recorded event " +
                e.record->event_id);
    }

    // The read model behind the log: lag or drift, by the rule in the header. True for drift.
    bool judge_missing(const StreamWalk& w) {
        const std::int64_t created = w.first_unapplied_created_ms.value_or(0);
        const bool in_flight = created >= oldest_pending_before_read_ ||
                               created > read_taken_ms_ - options_.projection_grace_ms;
        if (in_flight) {
            ++report_.lagging_streams;
            report_.lagging_events += w.log_version - w.read_version;
            return false;
        }
        add(FindingKind::MissingInRead, w.name,
            "read model version " + std::to_string(w.read_version) + ", event log version " +
                std::to_string(w.log_version) + ": version " + std::to_string(w.read_version + 1) +
                " was committed " + seconds_text(read_taken_ms_ - created) +
                " before the read snapshot");
        return true;
    }

    struct ReadVerdict {
        bool drift = false;    // a finding about the row's version was added
        bool compare = false;  // the row may be compared with the replay at its version
    };

    ReadVerdict judge_read_version(const StreamWalk& w, bool has_row) {
        if (has_row && w.read_version > w.log_version) {
            add(FindingKind::ReadAhead, w.name,
                w.log_version == 0 ? "read model version " + std::to_string(w.read_version) +
                                         ", but the event log has no such stream"
                                   : "read model version " + std::to_string(w.read_version) +
                                         ", event log version " + std::to_string(w.log_version));
            return {true, false};
        }
        const bool drift = w.read_version < w.log_version && judge_missing(w);
        return {drift, has_row && w.read_version > 0};
    }

    template <class State>
    struct Replayed {
        std::optional<State> last;
        std::optional<State> at_read;  // after the read model's version
    };

    // Folds the events of stream `id` off the head of `events` with `replay(before, event)`;
    // `on_event(state, event)` runs after each event that fits.
    template <class State, class Replay, class OnEvent>
    Replayed<State> replay_stream(Rows<AuditedEvent>& events, const std::string& id, StreamWalk& w,
                                  Replay replay, OnEvent on_event) {
        Replayed<State> out;
        while (const AuditedEvent* head = events.peek()) {
            if (head->event.stream.id != id) break;
            const AuditedEvent e = events.take();
            if (!walk(w, e)) continue;
            auto next = replay(out.last, e.event);
            if (!next) {
                refuse(w, e, next.error());
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
            add(FindingKind::WriteMismatch, w.name,
                "write-model row, but the event log has no such stream");
        } else if (!row && state) {
            add(FindingKind::WriteMismatch, w.name,
                "no write-model row; event log version " + std::to_string(w.log_version));
        } else if (state) {
            const std::string diff = differences(*row, *state);
            if (!diff.empty()) add(FindingKind::WriteMismatch, w.name, "write model " + diff);
        }
    }

    template <class Row, class State, class Diff>
    ReadVerdict judge_read_row(const StreamWalk& w, const std::optional<Row>& row,
                               const std::optional<State>& at_read, Diff differences) {
        const ReadVerdict verdict = judge_read_version(w, row.has_value());
        if (verdict.compare) {
            const std::string diff = differences(*row, *at_read);
            if (!diff.empty()) add(FindingKind::ReadMismatch, w.name, "read model " + diff);
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

    // Stock, once every stock change of every order has been seen.
    void finish_products() {
        for (const auto& [sku, p] : products_) {
            const std::string name = describe_stream(StreamKey{StreamType::Product, sku});
            if (!p.upserted) {
                if (p.seq_count > 0) {
                    add(FindingKind::StockMismatch, name,
                        "orders changed the stock of a product the event log never upserted");
                } else if (p.read_row && !p.read_judged) {
                    add(FindingKind::ReadAhead, name,
                        "read-model row, but the event log has no such stream");
                }
                continue;
            }
            if (!p.seqs_are_one_to_n()) {
                add(FindingKind::StockMismatch, name,
                    "stock sequence numbers in the event log are not 1.." +
                        std::to_string(p.max_seq) + " (" + std::to_string(p.seq_count) +
                        " stock changes)");
            }
            const std::optional<std::int64_t> replayed =
                p.upsert_stock ? std::optional(*p.upsert_stock + p.delta_after_upsert)
                               : std::nullopt;
            if (replayed != p.figure_at_max) {
                add(FindingKind::StockMismatch, name,
                    "event log: stock after the last upsert and the orders since is " +
                        show(replayed) + ", the newest stock change says " + show(p.figure_at_max));
            }
            if (replayed && *replayed < 0) {
                add(FindingKind::NegativeStock, name, "stock " + show(replayed));
            }
            if (p.write_row) {
                const auto diff = Differences()
                                      .field("stock", p.write_row->stock, replayed)
                                      .field("stockSeq", p.write_row->stock_seq, p.max_seq)
                                      .field("reserved", p.write_row->reserved, p.reserved)
                                      .text();
                if (!diff.empty()) add(FindingKind::StockMismatch, name, "write model " + diff);
                if (p.write_row->stock && *p.write_row->stock < 0) {
                    add(FindingKind::NegativeStock, name,
                        "write model stock " + show(p.write_row->stock));
                }
            }
            if (p.read_judged) continue;
            if (p.read_row) {
                const auto diff =
                    Differences()
                        .field("stock", p.read_row->view.stock, p.figure_at_max_applied)
                        .field("stockSeq", p.read_row->stock_seq, p.max_applied_seq)
                        .text();
                if (!diff.empty()) add(FindingKind::StockMismatch, name, "read model " + diff);
            } else if (p.max_applied_seq > 0) {
                add(FindingKind::StockMismatch, name,
                    "read model has no row, but applied stock changes up to stockSeq " +
                        std::to_string(p.max_applied_seq));
            }
        }
    }

    void check_outbox(const OutboxAudit& outbox, std::int64_t now_ms) {
        report_.outbox_pending = outbox.pending;
        if (!outbox.oldest_pending_created_ms) return;
        report_.oldest_pending_age_ms =
            std::max<std::int64_t>(0, now_ms - *outbox.oldest_pending_created_ms);
        if (report_.oldest_pending_age_ms > options_.max_pending_age_ms) {
            add(FindingKind::OutboxStale, "",
                std::to_string(outbox.pending) + " events pending in the outbox, the oldest for " +
                    seconds_text(report_.oldest_pending_age_ms) + " (bound " +
                    seconds_text(options_.max_pending_age_ms) + ")");
        }
    }

    WriteAudit& write_;
    ReadAudit& read_;
    const Clock& clock_;
    VerifyOptions options_;
    VerifyReport report_;
    std::optional<StoreError> error_;
    std::map<std::string, ProductLedger> products_;
    std::int64_t matched_records_ = 0;
    std::int64_t read_taken_ms_ = 0;
    std::int64_t oldest_pending_before_read_ = 0;
};

}  // namespace

Expected<VerifyReport, StoreError> verify_stores(WriteAudit& write, ReadAudit& read,
                                                 const Clock& clock, const VerifyOptions& options) {
    return Verifier(write, read, clock, options).run();
}

}  // namespace ordinal
