// `ordinal verify`'s checker against fakes of the audit ports. The stores are built by the real
// command executor (domain rules, events, idempotency records) over in-memory rows and a small
// projection of their own, then drift is planted in the rows and must be reported.
#include "verify/store_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "contract/store_contract.h"
#include "core/command_executor.h"

namespace ordinal {
namespace {

using contract::cancel_request;
using contract::FixedClock;
using contract::kT0;
using contract::pay_request;
using contract::place_request;
using contract::ship_request;
using contract::upsert_request;

const std::string kUser = "0190a1b2-0000-7000-8000-0000000000aa";

std::string uuid(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "0190a1b2-0000-7000-8000-%012d", i);
    return buf;
}

class SequentialIds final : public IdGenerator {
  public:
    std::string new_uuid_v7() override { return uuid(++n_ + 500000); }

  private:
    int n_ = 0;
};

// The write store, the relay and the read store of one process, in memory. Every command
// advances the clock one second.
class World {
  public:
    FixedClock clock{kT0};
    std::map<std::string, Product> products;
    std::map<std::string, Order> orders;
    std::map<std::string, IdempotencyRecord> records;
    std::vector<AuditedEvent> log;
    std::map<std::string, Order> orders_view;
    std::map<std::string, ProductViewRow> products_view;
    std::int64_t published_seq = 0;  // published and projected up to

    Acknowledgement run(const CommandRequest& request) {
        Transaction tx(*this);
        CommandOutcome outcome = execute_command(tx, request, clock, ids_);
        clock.advance(1000);
        if (!std::holds_alternative<Acknowledgement>(outcome)) {
            ADD_FAILURE() << "command rejected: " << request.fingerprint;
            return {};
        }
        return std::get<Acknowledgement>(outcome);
    }

    std::string key() { return uuid(++keys_ + 100000); }

    void upsert(const std::string& sku, std::optional<std::int64_t> stock,
                std::int64_t price = 1000) {
        run(upsert_request(key(), sku, stock, price));
    }
    std::string place(std::vector<OrderItem> items) {
        const std::string id = uuid(++orders_placed_);
        run(place_request(key(), id, kUser, std::move(items)));
        return id;
    }

    // The relay and projector: everything committed so far reaches the read model.
    void project_all() {
        for (const AuditedEvent& e : log) {
            if (e.seq > published_seq) project(e.event);
        }
        if (!log.empty()) published_seq = log.back().seq;
    }

    AuditedEvent* find_event(const std::string& stream_id, std::int64_t version) {
        for (AuditedEvent& e : log) {
            if (e.event.stream.id == stream_id && e.event.version == version) return &e;
        }
        return nullptr;
    }

  private:
    class Transaction final : public WriteTransaction {
      public:
        explicit Transaction(World& w) : w_(w) {}
        std::optional<IdempotencyRecord> find_idempotency(const std::string& key) override {
            auto it = w_.records.find(key);
            return it == w_.records.end() ? std::nullopt : std::optional(it->second);
        }
        void insert_idempotency(const IdempotencyRecord& r) override { w_.records[r.key] = r; }
        std::optional<Product> load_product(const std::string& sku) override {
            auto it = w_.products.find(sku);
            return it == w_.products.end() ? std::nullopt : std::optional(it->second);
        }
        void save_product(const Product& p) override { w_.products[p.sku] = p; }
        std::optional<Order> load_order(const std::string& id) override {
            auto it = w_.orders.find(id);
            return it == w_.orders.end() ? std::nullopt : std::optional(it->second);
        }
        void save_order(const Order& o) override { w_.orders[o.id] = o; }
        void append_event(const Event& e, const TraceContext&) override {
            w_.log.push_back(AuditedEvent{static_cast<std::int64_t>(w_.log.size()) + 1,
                                          w_.clock.unix_ms(), e, std::nullopt});
        }

      private:
        World& w_;
    };

    void take_stock(const std::vector<StockChange>& changes) {
        for (const StockChange& c : changes) {
            ProductViewRow& row = products_view[c.sku];
            row.view.sku = c.sku;
            if (c.stock_seq > row.stock_seq) {
                row.view.stock = c.stock;
                row.stock_seq = c.stock_seq;
            }
        }
    }

    void set_status(const Event& e, OrderStatus status) {
        Order& o = orders_view.at(e.stream.id);
        o.status = status;
        o.version = e.version;
        o.updated_at = e.occurred_at;
    }

    void project(const Event& e) {
        if (const auto* d = std::get_if<ProductUpserted>(&e.data)) {
            take_stock({StockChange{d->sku, d->stock, d->stock_seq}});
            ProductView& v = products_view[d->sku].view;
            v.name = d->name;
            v.currency = d->currency;
            v.price_minor = d->price_minor;
            v.version = e.version;
        } else if (const auto* placed = std::get_if<OrderPlaced>(&e.data)) {
            orders_view[e.stream.id] = Order{e.stream.id,      kUser,         OrderStatus::Placed,
                                             placed->currency, placed->items, placed->total_minor,
                                             e.version,        e.occurred_at, e.occurred_at};
            take_stock(placed->stock_changes);
        } else if (std::holds_alternative<OrderPaid>(e.data)) {
            set_status(e, OrderStatus::Paid);
        } else if (std::holds_alternative<OrderShipped>(e.data)) {
            set_status(e, OrderStatus::Shipped);
        } else if (const auto* cancelled = std::get_if<OrderCancelled>(&e.data)) {
            set_status(e, OrderStatus::Cancelled);
            take_stock(cancelled->stock_changes);
        }
    }

    SequentialIds ids_;
    int keys_ = 0;
    int orders_placed_ = 0;
};

template <class Row>
class VectorCursor final : public AuditCursor<Row> {
  public:
    explicit VectorCursor(std::vector<Row> rows, int fail_after = -1)
        : rows_(std::move(rows)), fail_after_(fail_after) {}
    Expected<std::optional<Row>, StoreError> next() override {
        if (fail_after_ >= 0 && at_ == static_cast<std::size_t>(fail_after_)) {
            return unexpected(StoreError{StoreError::Kind::Unavailable, "connection lost"});
        }
        if (at_ == rows_.size()) return std::optional<Row>();
        return std::optional<Row>(rows_[at_++]);
    }

  private:
    std::vector<Row> rows_;
    int fail_after_;
    std::size_t at_ = 0;
};

template <class Row>
Expected<std::unique_ptr<AuditCursor<Row>>, StoreError> cursor(std::vector<Row> rows,
                                                               int fail_after = -1) {
    return std::unique_ptr<AuditCursor<Row>>(
        std::make_unique<VectorCursor<Row>>(std::move(rows), fail_after));
}

template <class Map>
auto values(const Map& m) {
    std::vector<typename Map::mapped_type> out;
    for (const auto& [_, v] : m) out.push_back(v);
    return out;
}

// What both fake audits read from a World, with a log of the order of snapshots and reads.
class WorldRows {
  public:
    explicit WorldRows(World& w) : w(w) {}
    World& w;
    std::vector<std::string> calls;
    int fail_events_after = -1;
    std::int64_t extra_records = 0;

    OutboxAudit outbox() {
        calls.push_back("write.outbox");
        OutboxAudit o;
        for (const AuditedEvent& e : w.log) {
            if (e.seq <= w.published_seq) continue;
            ++o.pending;
            if (!o.oldest_pending_created_ms) o.oldest_pending_created_ms = e.created_ms;
        }
        return o;
    }

    std::vector<AuditedEvent> events(StreamType type) const {
        std::vector<AuditedEvent> rows;
        for (AuditedEvent e : w.log) {
            if (e.event.stream.type != type) continue;
            if (auto r = w.records.find(e.event.causation_id); r != w.records.end()) {
                e.record = IdempotencyLink{r->second.ack.event_id, r->second.created_unix_ms};
            }
            rows.push_back(std::move(e));
        }
        std::stable_sort(rows.begin(), rows.end(),
                         [](const AuditedEvent& a, const AuditedEvent& b) {
                             return std::pair(a.event.stream.id, a.event.version) <
                                    std::pair(b.event.stream.id, b.event.version);
                         });
        return rows;
    }
};

class FakeReadAudit final : public ReadAudit {
  public:
    explicit FakeReadAudit(WorldRows& rows) : rows_(rows) {}
    Expected<void, StoreError> begin_snapshot() override {
        rows_.calls.push_back("read snapshot");
        return {};
    }
    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return cursor(values(rows_.w.orders_view));
    }
    Expected<std::unique_ptr<AuditCursor<ProductViewRow>>, StoreError> products() override {
        return cursor(values(rows_.w.products_view));
    }

  private:
    WorldRows& rows_;
};

class FakeWriteAudit final : public WriteAudit {
  public:
    explicit FakeWriteAudit(WorldRows& rows) : rows_(rows) {}
    Expected<OutboxAudit, StoreError> outbox() override { return rows_.outbox(); }
    Expected<void, StoreError> begin_snapshot() override {
        rows_.calls.push_back("write snapshot");
        return {};
    }
    Expected<std::unique_ptr<AuditCursor<AuditedEvent>>, StoreError> events(StreamType t) override {
        return cursor(rows_.events(t), rows_.fail_events_after);
    }
    Expected<std::unique_ptr<AuditCursor<Product>>, StoreError> products() override {
        return cursor(values(rows_.w.products));
    }
    Expected<std::unique_ptr<AuditCursor<Order>>, StoreError> orders() override {
        return cursor(values(rows_.w.orders));
    }
    Expected<std::int64_t, StoreError> idempotency_records() override {
        return static_cast<std::int64_t>(rows_.w.records.size()) + rows_.extra_records;
    }

  private:
    WorldRows& rows_;
};

class StoreVerifier : public ::testing::Test {
  protected:
    // Two products (one unlimited), orders in every status, a re-stock after some orders.
    void SetUp() override {
        w.upsert("mug", 10);
        w.upsert("pen", std::nullopt, 250);
        placed = w.place({{"mug", 2}, {"pen", 5}});
        paid = w.place({{"mug", 1}});
        w.run(pay_request(w.key(), paid, 1000));
        shipped = w.place({{"mug", 3}});
        w.run(pay_request(w.key(), shipped, 3000));
        w.run(ship_request(w.key(), shipped));
        cancelled = w.place({{"mug", 1}, {"pen", 1}});
        w.upsert("mug", 20);  // a restock between placing and cancelling
        w.run(cancel_request(w.key(), cancelled));
        w.project_all();
        // Verify runs well after the last commit: whatever the read model lacks by now is lost.
        w.clock.advance(10 * 60 * 1000);
    }

    VerifyReport verify(VerifyOptions options = {}) {
        auto report = verify_stores(write_side, read_side, w.clock, options);
        EXPECT_TRUE(report) << (report ? "" : report.error().message);
        return report ? *report : VerifyReport{};
    }

    static std::int64_t count(const VerifyReport& r, FindingKind k) {
        return r.counts[static_cast<std::size_t>(k)];
    }

    // The kinds found, e.g. "read_mismatch stock_mismatch".
    static std::string kinds(const VerifyReport& r) {
        std::string out;
        for (std::size_t k = 0; k < kFindingKinds; ++k) {
            if (r.counts[k] == 0) continue;
            if (!out.empty()) out += " ";
            out += std::string(finding_kind_name(static_cast<FindingKind>(k)));
        }
        return out;
    }

    World w;
    WorldRows audits{w};
    FakeReadAudit read_side{audits};
    FakeWriteAudit write_side{audits};
    std::string placed, paid, shipped, cancelled;
};

TEST_F(StoreVerifier, HealthyStoreIsClean) {
    const VerifyReport r = verify();
    EXPECT_TRUE(r.clean()) << format_verify_report(r);
    EXPECT_EQ(r.events_checked, static_cast<std::int64_t>(w.log.size()));
    EXPECT_EQ(r.order_streams, 4);
    EXPECT_EQ(r.product_streams, 2);
    EXPECT_EQ(r.lagging_streams, 0);
    EXPECT_NE(format_verify_report(r).find("verify: clean"), std::string::npos);
}

TEST_F(StoreVerifier, TakesTheReadSnapshotBeforeTheWriteSnapshot) {
    verify();
    ASSERT_GE(audits.calls.size(), 3u);
    EXPECT_EQ(audits.calls[0], "write.outbox");
    EXPECT_EQ(audits.calls[1], "read snapshot");
    EXPECT_EQ(audits.calls[2], "write snapshot");
}

TEST_F(StoreVerifier, DeletedReadRowIsMissingInRead) {
    w.orders_view.erase(paid);
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "missing_in_read");
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].stream, "order/" + paid);
    EXPECT_NE(r.findings[0].detail.find("read model version 0, event log version 2"),
              std::string::npos)
        << r.findings[0].detail;
}

TEST_F(StoreVerifier, DeletedProductRowIsMissingInRead) {
    w.products_view.erase("pen");
    EXPECT_EQ(kinds(verify()), "missing_in_read");
}

TEST_F(StoreVerifier, ReadModelBehindWithinTheGraceIsLagNotDrift) {
    const std::string order = w.place({{"mug", 1}});  // committed, not projected yet
    w.run(ship_request(w.key(), paid));
    w.published_seq = static_cast<std::int64_t>(w.log.size());  // published, not yet applied
    const VerifyReport r = verify();
    EXPECT_TRUE(r.clean()) << format_verify_report(r);
    EXPECT_EQ(r.lagging_streams, 2);
    EXPECT_EQ(r.lagging_events, 2);
    (void)order;
}

TEST_F(StoreVerifier, ReadModelBehindPastTheGraceIsDrift) {
    w.place({{"mug", 1}});
    w.published_seq = static_cast<std::int64_t>(w.log.size());
    w.clock.advance(61 * 1000);
    EXPECT_EQ(kinds(verify()), "missing_in_read");
}

TEST_F(StoreVerifier, UnpublishedEventsAreLagAndJudgedByTheOutboxBound) {
    w.place({{"mug", 1}});
    w.clock.advance(30 * 1000);
    VerifyReport r = verify();  // pending 31 s: within the 60 s bound
    EXPECT_TRUE(r.clean()) << format_verify_report(r);
    EXPECT_EQ(r.lagging_streams, 1);
    EXPECT_EQ(r.outbox_pending, 1);

    w.clock.advance(60 * 1000);
    r = verify();
    EXPECT_EQ(kinds(r), "outbox_stale") << format_verify_report(r);
    EXPECT_EQ(r.findings[0].stream, "");
}

TEST_F(StoreVerifier, DoubledStockDecrementInReadModelIsStockMismatch) {
    // A projector without the version guard applies OrderPlaced twice: stock goes down twice.
    *w.products_view.at("mug").view.stock -= 2;
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "stock_mismatch");
    EXPECT_NE(r.findings[0].detail.find("read model stock"), std::string::npos)
        << r.findings[0].detail;
}

TEST_F(StoreVerifier, VersionSetBackInReadModelIsReadMismatch) {
    // The row holds SHIPPED (version 3) but claims version 2: a redelivery of version 3 would be
    // applied a second time.
    w.orders_view.at(shipped).version = 2;
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "missing_in_read read_mismatch") << format_verify_report(r);
    ASSERT_EQ(r.findings.size(), 2u);
    EXPECT_NE(r.findings[1].detail.find("status SHIPPED (replay: PAID)"), std::string::npos)
        << r.findings[1].detail;
}

TEST_F(StoreVerifier, ReadRowAheadOfTheLogIsReadAhead) {
    w.orders_view.at(placed).version = 5;
    Order ghost = w.orders_view.at(placed);
    ghost.id = uuid(999);
    w.orders_view[ghost.id] = ghost;
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "read_ahead");
    EXPECT_EQ(count(r, FindingKind::ReadAhead), 2);
}

TEST_F(StoreVerifier, TamperedReadFieldsAreReadMismatch) {
    w.orders_view.at(paid).total_minor += 1;
    w.products_view.at("pen").view.price_minor = 1;
    EXPECT_EQ(count(verify(), FindingKind::ReadMismatch), 2);
}

TEST_F(StoreVerifier, TamperedWriteStockAndReservedAreStockMismatch) {
    *w.products.at("mug").stock += 1;
    w.products.at("pen").reserved = 0;
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "stock_mismatch");
    EXPECT_EQ(count(r, FindingKind::StockMismatch), 2);
}

TEST_F(StoreVerifier, StockFollowsTheLastUpsertAndTheOrdersSinceIt) {
    // mug: upsert 10, orders 2+1+3+1, upsert 20, cancel of 1 -> 21; reserved 6.
    EXPECT_EQ(w.products.at("mug").stock, 21);
    EXPECT_EQ(w.products.at("mug").reserved, 6);
    // A stamped figure that breaks the arithmetic is caught in the log itself.
    auto& placed_event = std::get<OrderPlaced>(w.find_event(paid, 1)->event.data);
    placed_event.stock_changes[0].stock = 99;
    EXPECT_EQ(kinds(verify()), "");  // an older figure: overtaken by later ones
    auto& cancel = std::get<OrderCancelled>(w.find_event(cancelled, 2)->event.data);
    cancel.stock_changes[0].stock = 99;  // the newest figure of mug
    const VerifyReport r = verify();
    EXPECT_GE(count(r, FindingKind::StockMismatch), 1) << format_verify_report(r);
    EXPECT_NE(format_verify_report(r).find("event log: stock"), std::string::npos);
}

TEST_F(StoreVerifier, NegativeStockIsReported) {
    w.products.at("mug").stock = -1;
    const VerifyReport r = verify();
    EXPECT_EQ(count(r, FindingKind::NegativeStock), 1);
    EXPECT_EQ(count(r, FindingKind::StockMismatch), 1);
}

TEST_F(StoreVerifier, DuplicatedStockSequenceIsStockMismatch) {
    auto& placed_event = std::get<OrderPlaced>(w.find_event(shipped, 1)->event.data);
    placed_event.stock_changes[0].stock_seq -= 1;  // two changes share one number, one is missing
    EXPECT_NE(format_verify_report(verify()).find("not 1.."), std::string::npos);
}

TEST_F(StoreVerifier, DeletedMiddleEventIsVersionGap) {
    const AuditedEvent* e = w.find_event(shipped, 2);
    w.log.erase(w.log.begin() + (e - w.log.data()));
    const VerifyReport r = verify();
    EXPECT_EQ(count(r, FindingKind::VersionGap), 1) << format_verify_report(r);
    EXPECT_NE(r.findings[0].detail.find("version 3 follows version 1"), std::string::npos);
}

TEST_F(StoreVerifier, DeletedLastEventLeavesRowsAheadOfTheLog) {
    const AuditedEvent* e = w.find_event(shipped, 3);
    w.log.erase(w.log.begin() + (e - w.log.data()));
    const VerifyReport r = verify();
    // The ship command's idempotency record names the deleted event too.
    EXPECT_EQ(kinds(r), "write_mismatch idempotency_orphan read_ahead") << format_verify_report(r);
}

TEST_F(StoreVerifier, VersionsAgainstOutboxOrderIsVersionOrder) {
    std::swap(w.find_event(shipped, 2)->seq, w.find_event(shipped, 3)->seq);
    EXPECT_EQ(kinds(verify()), "version_order");
}

TEST_F(StoreVerifier, ImpossibleTransitionIsInvalidEvent) {
    w.find_event(shipped, 2)->event.data = OrderShipped{};  // shipped before it was paid
    const VerifyReport r = verify();
    EXPECT_EQ(count(r, FindingKind::InvalidEvent), 1) << format_verify_report(r);
    EXPECT_NE(r.findings[0].detail.find("OrderShipped on an order in status PLACED"),
              std::string::npos);
}

TEST_F(StoreVerifier, WriteRowsWithoutEventsOrEventsWithoutRowsAreWriteMismatch) {
    w.orders.erase(placed);
    Product extra = w.products.at("pen");
    extra.sku = "ghost";
    w.products["ghost"] = extra;
    w.orders.at(paid).status = OrderStatus::Shipped;
    const VerifyReport r = verify();
    EXPECT_EQ(count(r, FindingKind::WriteMismatch), 3) << format_verify_report(r);
}

TEST_F(StoreVerifier, TwoEventsForOneKeyAreADuplicateCommand) {
    AuditedEvent copy = *w.find_event(paid, 2);
    copy.seq = static_cast<std::int64_t>(w.log.size()) + 1;
    copy.event.version = 3;
    copy.event.event_id = uuid(777);
    copy.event.data = OrderShipped{};
    w.log.push_back(copy);
    w.orders.at(paid).status = OrderStatus::Shipped;
    w.orders.at(paid).version = 3;
    w.published_seq = copy.seq;
    w.orders_view.at(paid) = w.orders.at(paid);
    w.orders_view.at(paid).updated_at = copy.event.occurred_at;
    w.orders.at(paid).updated_at = copy.event.occurred_at;
    VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "duplicate_command") << format_verify_report(r);

    // Unless the key's record had expired before the key was used again.
    w.records.at(copy.event.causation_id).ack.event_id = copy.event.event_id;
    w.records.at(copy.event.causation_id).created_unix_ms = copy.created_ms + 3600 * 1000;
    VerifyOptions retention;
    retention.idempotency_retention_ms = 3600 * 1000;
    r = verify(retention);
    EXPECT_TRUE(r.clean()) << format_verify_report(r);
    EXPECT_EQ(kinds(verify()), "duplicate_command");
}

TEST_F(StoreVerifier, RecordsWithoutTheirEventAreIdempotencyOrphans) {
    audits.extra_records = 2;
    const VerifyReport r = verify();
    EXPECT_EQ(kinds(r), "idempotency_orphan");
    EXPECT_NE(r.findings[0].detail.find("2 of"), std::string::npos);
}

TEST_F(StoreVerifier, ListsAtMostMaxFindingsButCountsThemAll) {
    for (auto& [id, row] : w.orders_view) row.total_minor += 1;
    VerifyOptions options;
    options.max_findings = 2;
    const VerifyReport r = verify(options);
    EXPECT_EQ(r.findings.size(), 2u);
    EXPECT_EQ(r.total_findings(), 4);
    EXPECT_NE(format_verify_report(r).find("and 2 more findings"), std::string::npos);
}

TEST_F(StoreVerifier, AFailingCursorIsAStoreErrorNotAReport) {
    audits.fail_events_after = 3;
    auto r = verify_stores(write_side, read_side, w.clock, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, StoreError::Kind::Unavailable);
}

}  // namespace
}  // namespace ordinal
