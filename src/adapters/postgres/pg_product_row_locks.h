#pragma once
// The product rows a PostgreSQL projection transaction writes, locked up front in one order
// (pg_projection.cpp).
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "adapters/postgres/pg_connection.h"
#include "domain/events.h"

namespace ordinal::pg {

// Every products_view row a projection transaction writes, locked at its start, in one statement
// and in one order (by sku). Stock changes from orders of every partition write product rows, and a
// transaction may write them in several statements (a flush before each non-order event): two
// projectors that met the same products in opposite orders each held one row the other wanted,
// and PostgreSQL aborted one of them after deadlock_timeout (1 s). Taken here first and in sku
// order, a projector waits for a row before it holds any other, and the later statements find
// their rows already theirs. A product with no row yet gets a placeholder
// (stock_seq -1: any write wins over it), so that inserting it later takes no lock out of order;
// the placeholders nothing wrote are deleted before commit. A transaction that writes at most one
// product row cannot close a cycle over them and skips the statement.
class ProductRowLocks {
  public:
    void add(std::span<const Event> events) {
        for (const Event& e : events) {
            if (e.stream.type == StreamType::Product) skus_.insert(e.stream.id);
            if (const auto* placed = std::get_if<OrderPlaced>(&e.data)) add(placed->stock_changes);
            if (const auto* cancelled = std::get_if<OrderCancelled>(&e.data))
                add(cancelled->stock_changes);
        }
    }

    // The lock statement, to send before any other write of the transaction (alone, or in the
    // pipeline that opens it); nothing when fewer than two product rows are written.
    std::optional<pg::Statement> lock_statement() const {
        if (skus_.size() < 2) return std::nullopt;
        return pg::statement(
            "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
            "version) SELECT s, '', '', 0, NULL, -1, 0 FROM unnest($1::text[]) WITH ORDINALITY "
            "AS x(s, i) ORDER BY i "
            "ON CONFLICT (sku) DO UPDATE SET version = products_view.version WHERE false "
            "RETURNING sku",  // an existing row is locked, not updated, and not returned
            sku_list());
    }

    // What the lock statement answered: the placeholders it inserted (existing rows are not
    // returned).
    void locked(const Result& r) { placed_ = r.rows() > 0; }

    // Before commit: the placeholders no event wrote (every locked row still at stock_seq -1;
    // a row a projection wrote has a stock_seq of 0 or more). Nothing when the lock inserted
    // none: under a steady load every product has its row, and the statement would look each
    // sku up again for nothing.
    std::optional<pg::Statement> drop_statement() const {
        if (skus_.size() < 2 || !placed_) return std::nullopt;
        return pg::statement(
            "DELETE FROM products_view WHERE sku = ANY($1::text[]) AND stock_seq = -1", sku_list());
    }

    void lock(Connection& conn) {
        if (auto lock = lock_statement()) locked(conn.exec_pipeline({*lock}).back());
    }

    void drop_unused(Connection& conn) {
        if (auto drop = drop_statement()) conn.exec_pipeline({*drop});
    }

  private:
    void add(const std::vector<StockChange>& changes) {
        for (const StockChange& c : changes) skus_.insert(c.sku);
    }

    std::vector<std::string> sku_list() const { return {skus_.begin(), skus_.end()}; }

    std::set<std::string> skus_;  // std::string's order: the same in every process
    bool placed_ = false;
};

}  // namespace ordinal::pg
