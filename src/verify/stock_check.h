#pragma once
// Stock, the one invariant that spans streams: a product's figure follows from its own stream and
// every order's stock changes, so it is judged once the whole log has been read.
#include <cstdint>
#include <optional>
#include <string>

#include "domain/product.h"
#include "ports/audit_source.h"
#include "verify/findings.h"

namespace ordinal::verify {

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

    void add_figure(std::int64_t seq, const std::optional<std::int64_t>& figure, bool applied);
    bool seqs_are_one_to_n() const;
};

// Every stock finding of one product (`name`: "product/<sku>"), once the log has been read.
void check_stock(const std::string& name, const ProductLedger& p, Findings& findings);

}  // namespace ordinal::verify
