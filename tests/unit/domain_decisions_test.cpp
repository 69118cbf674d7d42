#include <gtest/gtest.h>

#include "domain/decisions.h"

namespace ordinal {
namespace {

Product product(std::string sku, std::int64_t price, std::optional<std::int64_t> stock,
                std::string currency = "EUR") {
    Product p;
    p.sku = std::move(sku);
    p.name = "n";
    p.currency = std::move(currency);
    p.price_minor = price;
    p.stock = stock;
    p.version = 1;
    p.stock_seq = 1;
    return p;
}

PlaceOrder place(std::vector<OrderItem> items, std::string currency = "EUR") {
    return PlaceOrder{"0190a1b2-0000-7000-8000-000000000001",
                      "0190a1b2-0000-7000-8000-0000000000aa", currency, std::move(items)};
}

TEST(PlaceOrder, ReservesStockAndLocksPrices) {
    std::vector<std::optional<Product>> ps{product("a", 250, 10), product("b", 100, std::nullopt)};
    auto d = decide_place_order(place({{"a", 3}, {"b", 2}}), ps, "t");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->next.total_minor, 3 * 250 + 2 * 100);
    EXPECT_EQ(d->next.version, 1);
    ASSERT_EQ(d->products_next.size(), 2u);
    EXPECT_EQ(d->products_next[0].stock, 7);
    EXPECT_EQ(d->products_next[0].reserved, 3);
    EXPECT_EQ(d->products_next[1].stock, std::nullopt);
    EXPECT_EQ(d->products_next[1].reserved, 2);
    const auto& ev = std::get<OrderPlaced>(d->event);
    EXPECT_EQ(ev.items[0].unit_price_minor, 250);
    ASSERT_EQ(ev.stock_changes.size(), 2u);
    EXPECT_EQ(ev.stock_changes[0].stock, 7);
    EXPECT_EQ(ev.stock_changes[0].stock_seq, 2);
}

TEST(PlaceOrder, NeverBelowZero) {
    std::vector<std::optional<Product>> ps{product("a", 1, 2)};
    auto d = decide_place_order(place({{"a", 3}}), ps, "t");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, DomainError::Code::InsufficientStock);
    EXPECT_EQ(d.error().sku, "a");
}

TEST(PlaceOrder, UnknownSkuAndCurrencyMismatch) {
    std::vector<std::optional<Product>> missing{std::nullopt};
    auto d = decide_place_order(place({{"zz", 1}}), missing, "t");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, DomainError::Code::UnknownSku);
    EXPECT_EQ(d.error().sku, "zz");
    std::vector<std::optional<Product>> usd{product("a", 1, 5, "USD")};
    auto c = decide_place_order(place({{"a", 1}}), usd, "t");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, DomainError::Code::CurrencyMismatch);
}

TEST(PlaceOrder, TotalOverflowIsRejected) {
    std::vector<std::optional<Product>> ps{product("a", INT64_MAX / 2, std::nullopt)};
    auto d = decide_place_order(place({{"a", 3}}), ps, "t");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, DomainError::Code::TotalOverflow);
}

Order placed_order(std::int64_t total = 500) {
    Order o;
    o.id = "0190a1b2-0000-7000-8000-000000000001";
    o.status = OrderStatus::Placed;
    o.currency = "EUR";
    o.lines = {OrderLine{"a", 2, 250}};
    o.total_minor = total;
    o.version = 1;
    return o;
}

TEST(OrderStateMachine, PlacedPaidShipped) {
    auto paid = decide_pay_order(PayOrder{"x", 1, "ref", 500}, placed_order(), "t2");
    ASSERT_TRUE(paid);
    EXPECT_EQ(paid->next.status, OrderStatus::Paid);
    EXPECT_EQ(paid->next.version, 2);
    EXPECT_EQ(paid->next.updated_at, "t2");
    auto shipped = decide_ship_order(ShipOrder{"x", std::nullopt}, paid->next, "t3");
    ASSERT_TRUE(shipped);
    EXPECT_EQ(shipped->next.status, OrderStatus::Shipped);
    auto cancel = decide_cancel_order(CancelOrder{"x", std::nullopt, "r"}, shipped->next, {}, "t4");
    ASSERT_FALSE(cancel);
    EXPECT_EQ(cancel.error().code, DomainError::Code::InvalidTransition);
    EXPECT_EQ(cancel.error().from, "SHIPPED");
    EXPECT_EQ(cancel.error().to, "CANCELLED");
}

TEST(OrderStateMachine, ShipRequiresPayment) {
    auto d = decide_ship_order(ShipOrder{"x", std::nullopt}, placed_order(), "t");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, DomainError::Code::InvalidTransition);
    EXPECT_EQ(d.error().from, "PLACED");
}

TEST(OrderStateMachine, PayChecksAmountAndVersion) {
    auto wrong = decide_pay_order(PayOrder{"x", std::nullopt, "ref", 499}, placed_order(), "t");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, DomainError::Code::AmountMismatch);
    auto stale = decide_pay_order(PayOrder{"x", 3, "ref", 500}, placed_order(), "t");
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, DomainError::Code::VersionConflict);
    EXPECT_EQ(stale.error().current_version, 1);
    auto missing = decide_pay_order(PayOrder{"x", std::nullopt, "ref", 500}, std::nullopt, "t");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, DomainError::Code::NotFound);
}

TEST(OrderStateMachine, CancelReleasesStock) {
    std::vector<std::optional<Product>> ps{product("a", 250, 8)};
    ps[0]->reserved = 2;
    auto d = decide_cancel_order(CancelOrder{"x", 1, "changed my mind"}, placed_order(), ps, "t");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->next.status, OrderStatus::Cancelled);
    ASSERT_EQ(d->products_next.size(), 1u);
    EXPECT_EQ(d->products_next[0].stock, 10);
    EXPECT_EQ(d->products_next[0].reserved, 0);
    EXPECT_EQ(std::get<OrderCancelled>(d->event).stock_changes[0].stock, 10);
    EXPECT_EQ(std::get<OrderCancelled>(d->event).cancelled_from, OrderStatus::Placed);
}

TEST(UpsertProduct, CountsVersionsAndStockSeq) {
    auto first = decide_upsert_product(UpsertProduct{"a", "A", "EUR", 100, 5}, std::nullopt);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->next.version, 1);
    Product p = first->next;
    p.reserved = 3;
    auto second = decide_upsert_product(UpsertProduct{"a", "A2", "EUR", 120, std::nullopt}, p);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->next.version, 2);
    EXPECT_EQ(second->next.reserved, 3);  // a PUT sets available stock; reservations stay
    EXPECT_EQ(second->next.stock, std::nullopt);
    EXPECT_EQ(second->event.stock_seq, 2);
}

}  // namespace
}  // namespace ordinal
