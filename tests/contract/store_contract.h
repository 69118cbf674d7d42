#pragma once
// The store contract suites, written once against the ports (WriteStore, ReadStore). Each store
// implementation instantiates them with a StoreBackend factory, e.g.
//   INSTANTIATE_TEST_SUITE_P(Sqlite, WriteStoreContract, ::testing::Values(sqlite_backend()),
//   backend_name);
// so a PostgreSQL backend adds one file and no test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/system_clock.h"
#include "domain/events.h"
#include "domain/product.h"
#include "ports/clock.h"
#include "ports/read_store.h"
#include "ports/write_store.h"

namespace ordinal::contract {

// Wall clock fixed by the test; thread-safe.
class FixedClock final : public Clock {
  public:
    explicit FixedClock(std::int64_t unix_ms) : ms_(unix_ms) {}
    std::int64_t unix_ms() const override { return ms_.load(); }
    void advance(std::int64_t ms) { ms_.fetch_add(ms); }

  private:
    std::atomic<std::int64_t> ms_;
};

// One implementation under test. A backend owns one persistent location (a temp directory, a
// fresh database) for its lifetime, so stores opened again see what earlier ones wrote.
class StoreBackend {
  public:
    virtual ~StoreBackend() = default;
    virtual Expected<std::unique_ptr<WriteStore>, StoreError> open_write_store(
        const Clock& clock, IdGenerator& ids) = 0;
    virtual Expected<std::unique_ptr<ReadStore>, StoreError> open_read_store(
        const Clock& clock) = 0;
    // The write model's product row, read behind the port (reserved stock is not on any port).
    virtual std::optional<Product> peek_write_model_product(const std::string& sku) = 0;
};

struct BackendFactory {
    std::string name;
    std::function<std::unique_ptr<StoreBackend>()> make;
};

inline std::string backend_name(const ::testing::TestParamInfo<BackendFactory>& info) {
    return info.param.name;
}

inline constexpr std::int64_t kT0 =
    1'790'000'000'000;  // 2026-09-21T...Z, an arbitrary fixed instant

// ---- command builders --------------------------------------------------------------------------

inline CommandRequest upsert_request(const std::string& key, const std::string& sku,
                                     std::optional<std::int64_t> stock,
                                     std::int64_t price_minor = 1000,
                                     const std::string& currency = "EUR") {
    UpsertProduct cmd{sku, "Product " + sku, currency, price_minor, stock};
    return CommandRequest{key,
                          "upsert:" + sku + ":" + std::to_string(price_minor) + ":" +
                              (stock ? std::to_string(*stock) : "null"),
                          cmd};
}

inline CommandRequest place_request(const std::string& key, const std::string& order_id,
                                    const std::string& user_id, std::vector<OrderItem> items,
                                    const std::string& currency = "EUR") {
    std::string fp = "place:" + user_id;
    for (const auto& i : items) fp += ":" + i.sku + "x" + std::to_string(i.qty);
    return CommandRequest{key, fp, PlaceOrder{order_id, user_id, currency, std::move(items)}};
}

inline CommandRequest pay_request(const std::string& key, const std::string& order_id,
                                  std::int64_t amount,
                                  std::optional<std::int64_t> expected_version = std::nullopt) {
    return CommandRequest{key, "pay:" + order_id + ":" + std::to_string(amount),
                          PayOrder{order_id, expected_version, "pay-ref-1", amount}};
}

inline CommandRequest ship_request(const std::string& key, const std::string& order_id) {
    return CommandRequest{key, "ship:" + order_id, ShipOrder{order_id, std::nullopt}};
}

inline CommandRequest cancel_request(const std::string& key, const std::string& order_id) {
    return CommandRequest{key, "cancel:" + order_id,
                          CancelOrder{order_id, std::nullopt, "changed my mind"}};
}

// ---- fixtures
// ------------------------------------------------------------------------------------

class WriteStoreContract : public ::testing::TestWithParam<BackendFactory> {
  protected:
    void SetUp() override {
        backend_ = GetParam().make();
        ASSERT_TRUE(backend_);
        open();
    }

    void open() {
        auto store = backend_->open_write_store(clock_, ids_);
        ASSERT_TRUE(store) << store.error().message;
        store_ = std::move(*store);
    }

    void reopen() {
        store_.reset();
        open();
    }

    CommandOutcome submit(CommandRequest request) {
        std::promise<CommandOutcome> promise;
        auto future = promise.get_future();
        store_->submit(std::move(request),
                       [&promise](CommandOutcome o) { promise.set_value(std::move(o)); });
        return future.get();
    }

    // Submits and expects acceptance; returns the acknowledgement.
    Acknowledgement accept(CommandRequest request) {
        CommandOutcome outcome = submit(std::move(request));
        EXPECT_TRUE(std::holds_alternative<Acknowledgement>(outcome))
            << "outcome index " << outcome.index();
        if (auto* ack = std::get_if<Acknowledgement>(&outcome)) return *ack;
        return {};
    }

    std::string new_key() { return ids_.new_uuid_v7(); }

    std::vector<StoredEvent> whole_log() {
        auto log = store_->read_log(0, 100000);
        EXPECT_TRUE(log) << log.error().message;
        return log ? *log : std::vector<StoredEvent>{};
    }

    FixedClock clock_{kT0};
    RandomIdGenerator ids_{clock_};
    std::unique_ptr<StoreBackend> backend_;
    std::unique_ptr<WriteStore> store_;
};

class ReadStoreContract : public ::testing::TestWithParam<BackendFactory> {
  protected:
    void SetUp() override {
        backend_ = GetParam().make();
        ASSERT_TRUE(backend_);
        open();
    }

    void open() {
        auto store = backend_->open_read_store(clock_);
        ASSERT_TRUE(store) << store.error().message;
        store_ = std::move(*store);
    }

    void reopen() {
        store_.reset();
        open();
    }

    ProjectionResult apply_ok(const std::vector<Event>& events, std::int64_t offset,
                              const std::string& partition = "local") {
        auto result = store_->apply(events, BusPosition{partition, offset});
        EXPECT_TRUE(result) << result.error().message;
        return result ? *result : ProjectionResult{};
    }

    // A bus delivery of `events` at offsets first, first + 1, ... (the position is the next one),
    // with `dead` to dead-letter as given.
    ProjectionResult deliver_ok(std::vector<Event> events, std::int64_t first,
                                std::vector<DeadLetter> dead = {},
                                const std::string& partition = "orders-0") {
        auto result = deliver(std::move(events), first, std::move(dead), partition);
        EXPECT_TRUE(result) << result.error().message;
        return result ? *result : ProjectionResult{};
    }

    Expected<ProjectionResult, StoreError> deliver(std::vector<Event> events, std::int64_t first,
                                                   std::vector<DeadLetter> dead = {},
                                                   const std::string& partition = "orders-0") {
        std::vector<std::int64_t> offsets;
        for (std::size_t i = 0; i < events.size(); ++i)
            offsets.push_back(first + static_cast<std::int64_t>(i));
        const std::int64_t next = first + static_cast<std::int64_t>(events.size() + dead.size());
        const Delivery delivery{std::move(events), std::move(dead), BusPosition{partition, next}};
        return store_->apply_delivery(delivery, offsets);
    }

    std::vector<DeadLetter> dead_letters() {
        auto letters = store_->list_dead_letters(DeadLetterQuery{1000, {}, {}, {}, {}});
        EXPECT_TRUE(letters) << letters.error().message;
        return letters ? *letters : std::vector<DeadLetter>{};
    }

    DeadLetterRetry retry_ok(std::optional<std::int64_t> id = std::nullopt) {
        auto retry = store_->retry_dead_letters(id);
        EXPECT_TRUE(retry) << retry.error().message;
        return retry ? *retry : DeadLetterRetry{};
    }

    FixedClock clock_{kT0};  // the projection batches' times
    std::unique_ptr<StoreBackend> backend_;
    std::unique_ptr<ReadStore> store_;
};

// ---- hand-made events for the read side
// ------------------------------------------------------------

inline Event make_event(StreamType type, const std::string& id, std::int64_t version,
                        EventData data,
                        const std::string& occurred_at = "2026-11-27T09:00:00.000Z") {
    Event e;
    e.event_id =
        "evt-" + id + "-" + std::to_string(version);  // the read side does not interpret it
    e.stream = StreamKey{type, id};
    e.version = version;
    e.occurred_at = occurred_at;
    e.causation_id = "11111111-1111-4111-8111-111111111111";
    e.data = std::move(data);
    return e;
}

inline Event product_upserted(const std::string& sku, std::int64_t version,
                              std::optional<std::int64_t> stock, std::int64_t stock_seq,
                              std::int64_t price_minor = 1000) {
    return make_event(StreamType::Product, sku, version,
                      ProductUpserted{sku, "Product " + sku, "EUR", price_minor, stock, stock_seq});
}

inline Event order_placed(const std::string& order_id, const std::string& user_id,
                          std::vector<OrderLine> items, std::vector<StockChange> stock_changes,
                          const std::string& created_at = "2026-11-27T09:00:00.000Z") {
    std::int64_t total = 0;
    for (const auto& l : items) total += l.qty * l.unit_price_minor;
    return make_event(
        StreamType::Order, order_id, 1,
        OrderPlaced{user_id, "EUR", std::move(items), total, std::move(stock_changes)}, created_at);
}

}  // namespace ordinal::contract
