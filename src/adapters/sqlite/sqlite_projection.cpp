#include "adapters/sqlite/sqlite_projection.h"

#include <map>
#include <string>
#include <type_traits>

#include "codec/event_json.h"
#include "core/projection_sequencer.h"

namespace ordinal::sqlite {
namespace {

[[noreturn]] void reject(std::string message) {
    throw StoreFailure(internal_error(std::move(message)));
}

// A stock figure is only taken when it is newer (higher stock_seq) than what the row holds, so
// stock changes from different streams may arrive in any order. A product first seen through a
// stock change gets a version-0 placeholder row, which its ProductUpserted later fills in.
void apply_stock_changes(Connection& conn, const std::vector<StockChange>& changes) {
    for (const StockChange& c : changes) {
        conn.exec(
            "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, "
            "version) "
            "VALUES (?1, '', '', 0, ?2, ?3, 0) "
            "ON CONFLICT (sku) DO UPDATE SET stock = excluded.stock, stock_seq = "
            "excluded.stock_seq "
            "WHERE excluded.stock_seq > products_view.stock_seq",
            c.sku, c.stock, c.stock_seq);
    }
}

void set_order_status(Connection& conn, const Event& e, OrderStatus status) {
    const auto changed = conn.exec(
        "UPDATE orders_view SET status = ?, version = ?, updated_at = ? WHERE order_id = ?",
        order_status_name(status), e.version, e.occurred_at, e.stream.id);
    if (changed != 1) reject("projection: no order row for " + describe_stream(e.stream));
}

void apply_one(Connection& conn, const Event& e, const ProductUpserted& d) {
    // In an upsert's SET every right-hand side sees the old row, so stock and stock_seq are
    // judged against the same old stock_seq.
    conn.exec(
        "INSERT INTO products_view (sku, name, currency, price_minor, stock, stock_seq, version) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, currency = excluded.currency, "
        "price_minor = excluded.price_minor, version = excluded.version, "
        "stock = CASE WHEN excluded.stock_seq > products_view.stock_seq THEN excluded.stock "
        "ELSE products_view.stock END, "
        "stock_seq = max(products_view.stock_seq, excluded.stock_seq)",
        e.stream.id, d.name, d.currency, d.price_minor, d.stock, d.stock_seq, e.version);
}

void apply_one(Connection& conn, const Event& e, const OrderPlaced& d) {
    conn.exec(
        "INSERT INTO orders_view (order_id, user_id, status, currency, items, total_minor, "
        "version, created_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        e.stream.id, d.user_id, order_status_name(OrderStatus::Placed), d.currency,
        encode_order_lines(d.items), d.total_minor, e.version, e.occurred_at);
    apply_stock_changes(conn, d.stock_changes);
}

void apply_one(Connection& conn, const Event& e, const OrderPaid&) {
    set_order_status(conn, e, OrderStatus::Paid);
}

void apply_one(Connection& conn, const Event& e, const OrderShipped&) {
    set_order_status(conn, e, OrderStatus::Shipped);
}

void apply_one(Connection& conn, const Event& e, const OrderCancelled& d) {
    set_order_status(conn, e, OrderStatus::Cancelled);
    apply_stock_changes(conn, d.stock_changes);
}

}  // namespace

std::int64_t select_stream_version(Connection& conn, const StreamKey& stream) {
    Query q = stream.type == StreamType::Order
                  ? conn.query("SELECT version FROM orders_view WHERE order_id = ?", stream.id)
                  : conn.query("SELECT version FROM products_view WHERE sku = ?", stream.id);
    return q.next() ? q.int64(0) : 0;
}

ProjectionResult project_events(Connection& conn, std::span<const Event> events,
                                const BusPosition& position) {
    ProjectionResult result = sequence_events(
        events, [&conn](const StreamKey& stream) { return select_stream_version(conn, stream); },
        [&conn](const Event& e) { std::visit([&](const auto& data) { apply_one(conn, e, data); }, e.data); });
    conn.exec(
        "INSERT INTO bus_positions (partition, \"offset\") VALUES (?1, ?2) "
        "ON CONFLICT (partition) DO UPDATE SET \"offset\" = max(\"offset\", excluded.\"offset\")",
        position.partition, position.offset);
    return result;
}

}  // namespace ordinal::sqlite
