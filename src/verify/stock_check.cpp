#include "verify/stock_check.h"

#include "verify/difference_text.h"

namespace ordinal::verify {

void ProductLedger::add_figure(std::int64_t seq, const std::optional<std::int64_t>& figure,
                               bool applied) {
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

bool ProductLedger::seqs_are_one_to_n() const {
    const auto n = static_cast<std::uint64_t>(max_seq);
    // n(n+1)/2 and n(n+1)(2n+1)/6 mod 2^64: divide before multiplying so nothing is lost.
    const std::uint64_t a = n % 2 == 0 ? n / 2 * (n + 1) : (n + 1) / 2 * n;
    std::uint64_t x = n, y = n + 1, z = 2 * n + 1;
    (x % 2 == 0 ? x : y) /= 2;
    (x % 3 == 0 ? x : (y % 3 == 0 ? y : z)) /= 3;
    return seq_count == n && seq_sum == a && seq_square_sum == x * y * z;
}

namespace {

void check_write_row(const std::string& name, const ProductLedger& p,
                     const std::optional<std::int64_t>& replayed, Findings& findings) {
    const auto diff = Differences()
                          .field("stock", p.write_row->stock, replayed)
                          .field("stockSeq", p.write_row->stock_seq, p.max_seq)
                          .field("reserved", p.write_row->reserved, p.reserved)
                          .text();
    if (!diff.empty()) findings.add(FindingKind::StockMismatch, name, "write model " + diff);
    if (p.write_row->stock && *p.write_row->stock < 0) {
        findings.add(FindingKind::NegativeStock, name,
                     "write model stock " + show(p.write_row->stock));
    }
}

void check_read_row(const std::string& name, const ProductLedger& p, Findings& findings) {
    if (p.read_row) {
        const auto diff = Differences()
                              .field("stock", p.read_row->view.stock, p.figure_at_max_applied)
                              .field("stockSeq", p.read_row->stock_seq, p.max_applied_seq)
                              .text();
        if (!diff.empty()) findings.add(FindingKind::StockMismatch, name, "read model " + diff);
    } else if (p.max_applied_seq > 0) {
        findings.add(FindingKind::StockMismatch, name,
                     "read model has no row, but applied stock changes up to stockSeq " +
                         std::to_string(p.max_applied_seq));
    }
}

}  // namespace

void check_stock(const std::string& name, const ProductLedger& p, Findings& findings) {
    if (!p.upserted) {
        if (p.seq_count > 0) {
            findings.add(FindingKind::StockMismatch, name,
                         "orders changed the stock of a product the event log never upserted");
        } else if (p.read_row && !p.read_judged) {
            findings.add(FindingKind::ReadAhead, name,
                         "read-model row, but the event log has no such stream");
        }
        return;
    }
    if (!p.seqs_are_one_to_n()) {
        findings.add(FindingKind::StockMismatch, name,
                     "stock sequence numbers in the event log are not 1.." +
                         std::to_string(p.max_seq) + " (" + std::to_string(p.seq_count) +
                         " stock changes)");
    }
    const std::optional<std::int64_t> replayed =
        p.upsert_stock ? std::optional(*p.upsert_stock + p.delta_after_upsert) : std::nullopt;
    if (replayed != p.figure_at_max) {
        findings.add(FindingKind::StockMismatch, name,
                     "event log: stock after the last upsert and the orders since is " +
                         show(replayed) + ", the newest stock change says " +
                         show(p.figure_at_max));
    }
    if (replayed && *replayed < 0) {
        findings.add(FindingKind::NegativeStock, name, "stock " + show(replayed));
    }
    if (p.write_row) check_write_row(name, p, replayed, findings);
    if (!p.read_judged) check_read_row(name, p, findings);
}

}  // namespace ordinal::verify
