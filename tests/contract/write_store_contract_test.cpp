// WriteStore contract: what every write-store adapter must do, whatever engine is behind it.
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "domain/time_format.h"
#include "ports/batch_times.h"
#include "store_contract.h"

namespace ordinal::contract {
namespace {

const std::string kUser = "4f0d2a8e-1c7b-4e55-9a31-0b6c2d7e8f90";

std::string order_id_for(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "0190a1b2-c3d4-7e5f-8a9b-%012d", i);
    return buf;
}

template <class T>
const T& expect_data(const StoredEvent& e) {
    EXPECT_TRUE(std::holds_alternative<T>(e.event.data))
        << "event type " << event_type_name(e.event.data);
    static const T empty{};
    return std::holds_alternative<T>(e.event.data) ? std::get<T>(e.event.data) : empty;
}

TEST_P(WriteStoreContract, AcceptedCommandAppendsOneEventAndRecordsItsKey) {
    const std::string key = new_key();
    const Acknowledgement ack = accept(upsert_request(key, "SKU-1", 7, 1299));
    EXPECT_FALSE(ack.duplicate);
    EXPECT_EQ(ack.stream, (StreamKey{StreamType::Product, "SKU-1"}));
    EXPECT_EQ(ack.version, 1);
    EXPECT_FALSE(ack.event_id.empty());
    EXPECT_FALSE(ack.consistency_token.empty());

    const auto log = whole_log();
    ASSERT_EQ(log.size(), 1u);
    const Event& ev = log[0].event;
    EXPECT_EQ(ev.event_id, ack.event_id);
    EXPECT_EQ(ev.stream, ack.stream);
    EXPECT_EQ(ev.version, 1);
    EXPECT_EQ(ev.causation_id, key);
    EXPECT_EQ(ev.occurred_at, format_rfc3339_ms(kT0));
    EXPECT_EQ(ev.schema_version, schema_version_of(ev.data));
    const auto& data = expect_data<ProductUpserted>(log[0]);
    EXPECT_EQ(data.sku, "SKU-1");
    EXPECT_EQ(data.name, "Product SKU-1");
    EXPECT_EQ(data.currency, "EUR");
    EXPECT_EQ(data.price_minor, 1299);
    EXPECT_EQ(data.stock, 7);
    EXPECT_EQ(data.stock_seq, 1);

    auto record = store_->find_idempotency(key);
    ASSERT_TRUE(record) << record.error().message;
    ASSERT_TRUE(record->has_value());
    const IdempotencyRecord& r = **record;
    EXPECT_EQ(r.key, key);
    EXPECT_EQ(r.fingerprint, upsert_request(key, "SKU-1", 7, 1299).fingerprint);
    EXPECT_EQ(r.command_type, "upsert_product");
    EXPECT_FALSE(r.ack.duplicate);
    EXPECT_EQ(r.ack.event_id, ack.event_id);
    EXPECT_EQ(r.ack.stream, ack.stream);
    EXPECT_EQ(r.ack.version, ack.version);
    EXPECT_EQ(r.ack.consistency_token, ack.consistency_token);
    EXPECT_EQ(r.created_unix_ms, kT0);

    auto missing = store_->find_idempotency(new_key());
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
}

// The command's W3C trace context is outbox metadata: stored beside its event and handed to the
// relay with it, and none (NULL) for a command without one.
TEST_P(WriteStoreContract, TheTraceContextOfACommandComesBackWithItsEvent) {
    const std::string with_state = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const std::string alone = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    CommandRequest a = upsert_request(new_key(), "SKU-1", 1);
    a.trace = TraceContext{with_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"};
    CommandRequest b = upsert_request(new_key(), "SKU-2", 1);
    b.trace = TraceContext{alone, ""};
    CommandRequest c = upsert_request(new_key(), "SKU-3", 1);
    accept(a);
    accept(b);
    accept(c);

    auto pending = store_->fetch_pending(10);
    ASSERT_TRUE(pending) << pending.error().message;
    ASSERT_EQ(pending->size(), 3u);
    EXPECT_EQ((*pending)[0].trace.traceparent, with_state);
    EXPECT_EQ((*pending)[0].trace.tracestate, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    EXPECT_EQ((*pending)[1].trace.traceparent, alone);
    EXPECT_EQ((*pending)[1].trace.tracestate, "");
    EXPECT_TRUE((*pending)[2].trace.empty());
    EXPECT_EQ((*pending)[2].event.stream.id, "SKU-3");
}

TEST_P(WriteStoreContract, RepeatWithSameFingerprintAnswersTheOriginalEvenAfterTheStreamMovedOn) {
    const std::string key = new_key();
    const Acknowledgement first = accept(upsert_request(key, "SKU-1", 5));
    accept(upsert_request(new_key(), "SKU-1", 9));  // the stream moves on to version 2

    const Acknowledgement again = accept(upsert_request(key, "SKU-1", 5));
    EXPECT_TRUE(again.duplicate);
    EXPECT_EQ(again.event_id, first.event_id);
    EXPECT_EQ(again.stream, first.stream);
    EXPECT_EQ(again.version, 1);
    EXPECT_EQ(again.consistency_token, first.consistency_token);
    EXPECT_EQ(whole_log().size(), 2u);  // the duplicate appended nothing
}

TEST_P(WriteStoreContract, SameKeyWithAnotherPayloadIsKeyReused) {
    const std::string key = new_key();
    accept(upsert_request(key, "SKU-1", 5));
    const CommandOutcome outcome = submit(upsert_request(key, "SKU-1", 6));
    EXPECT_TRUE(std::holds_alternative<KeyReused>(outcome));
    // Another command type under the same key too.
    EXPECT_TRUE(std::holds_alternative<KeyReused>(submit(ship_request(key, order_id_for(1)))));
    EXPECT_EQ(whole_log().size(), 1u);
}

TEST_P(WriteStoreContract, RejectedCommandLeavesNoRecordAndMaySucceedWhenRetriedLater) {
    accept(upsert_request(new_key(), "SKU-1", 1));
    const std::string key = new_key();
    const auto place = place_request(key, order_id_for(1), kUser, {{"SKU-1", 2}});

    const CommandOutcome rejected = submit(place);
    ASSERT_TRUE(std::holds_alternative<DomainError>(rejected));
    EXPECT_EQ(std::get<DomainError>(rejected).code, DomainError::Code::InsufficientStock);
    EXPECT_EQ(std::get<DomainError>(rejected).sku, "SKU-1");
    auto record = store_->find_idempotency(key);
    ASSERT_TRUE(record);
    EXPECT_FALSE(record->has_value());
    EXPECT_EQ(whole_log().size(), 1u);
    auto product = backend_->peek_write_model_product("SKU-1");
    ASSERT_TRUE(product);
    EXPECT_EQ(product->stock, 1);
    EXPECT_EQ(product->reserved, 0);

    accept(upsert_request(new_key(), "SKU-1", 5));  // restock
    const Acknowledgement ack = accept(place);
    EXPECT_FALSE(ack.duplicate);
    EXPECT_EQ(ack.stream, (StreamKey{StreamType::Order, order_id_for(1)}));
    EXPECT_EQ(ack.version, 1);
}

TEST_P(WriteStoreContract, UnknownOrderIsNotFoundAndUnknownSkuIsRejected) {
    const CommandOutcome pay = submit(pay_request(new_key(), order_id_for(9), 100));
    ASSERT_TRUE(std::holds_alternative<DomainError>(pay));
    EXPECT_EQ(std::get<DomainError>(pay).code, DomainError::Code::NotFound);
    const CommandOutcome place =
        submit(place_request(new_key(), order_id_for(9), kUser, {{"NOPE", 1}}));
    ASSERT_TRUE(std::holds_alternative<DomainError>(place));
    EXPECT_EQ(std::get<DomainError>(place).code, DomainError::Code::UnknownSku);
    EXPECT_TRUE(whole_log().empty());
}

TEST_P(WriteStoreContract, StaleExpectedVersionIsAConflictCarryingTheCurrentVersion) {
    accept(upsert_request(new_key(), "SKU-1", 10, 250));
    accept(place_request(new_key(), order_id_for(1), kUser, {{"SKU-1", 2}}));
    const CommandOutcome outcome = submit(pay_request(new_key(), order_id_for(1), 500, 5));
    ASSERT_TRUE(std::holds_alternative<DomainError>(outcome));
    const auto& error = std::get<DomainError>(outcome);
    EXPECT_EQ(error.code, DomainError::Code::VersionConflict);
    EXPECT_EQ(error.current_version, 1);

    const Acknowledgement paid = accept(pay_request(new_key(), order_id_for(1), 500, 1));
    EXPECT_EQ(paid.version, 2);
}

TEST_P(WriteStoreContract, StreamVersionsCountUpWithoutGapsAndTheOutboxKeepsStreamOrder) {
    accept(upsert_request(new_key(), "SKU-1", 10, 250));
    const std::string order = order_id_for(1);
    EXPECT_EQ(accept(place_request(new_key(), order, kUser, {{"SKU-1", 2}})).version, 1);
    // A rejected command in between must not consume a version.
    EXPECT_TRUE(std::holds_alternative<DomainError>(submit(ship_request(new_key(), order))));
    EXPECT_EQ(accept(pay_request(new_key(), order, 500)).version, 2);
    EXPECT_EQ(accept(ship_request(new_key(), order)).version, 3);
    EXPECT_EQ(accept(upsert_request(new_key(), "SKU-1", 10, 260)).version, 2);

    const auto log = whole_log();
    ASSERT_EQ(log.size(), 5u);
    std::map<StreamKey, std::int64_t> last;
    std::int64_t last_seq = 0;
    for (const StoredEvent& e : log) {
        EXPECT_GT(e.seq, last_seq);
        last_seq = e.seq;
        EXPECT_EQ(e.event.version, last[e.event.stream] + 1) << e.event.stream.id;
        last[e.event.stream] = e.event.version;
    }
    const StreamKey order_stream{StreamType::Order, order};
    std::vector<std::string> order_types;
    for (const StoredEvent& e : log) {
        if (e.event.stream == order_stream) order_types.emplace_back(event_type_name(e.event.data));
    }
    EXPECT_EQ(order_types, (std::vector<std::string>{"OrderPlaced", "OrderPaid", "OrderShipped"}));

    const auto& placed = expect_data<OrderPlaced>(log[1]);
    EXPECT_EQ(placed.user_id, kUser);
    EXPECT_EQ(placed.total_minor, 500);
    ASSERT_EQ(placed.items.size(), 1u);
    EXPECT_EQ(placed.items[0].unit_price_minor, 250);
    ASSERT_EQ(placed.stock_changes.size(), 1u);
    EXPECT_EQ(placed.stock_changes[0].stock, 8);
    EXPECT_EQ(placed.stock_changes[0].stock_seq, 2);
}

TEST_P(WriteStoreContract, CancellingReleasesReservedStock) {
    accept(upsert_request(new_key(), "SKU-1", 10));
    accept(upsert_request(new_key(), "SKU-2", std::nullopt));
    const std::string order = order_id_for(1);
    accept(place_request(new_key(), order, kUser, {{"SKU-1", 3}, {"SKU-2", 4}}));
    auto p1 = backend_->peek_write_model_product("SKU-1");
    auto p2 = backend_->peek_write_model_product("SKU-2");
    ASSERT_TRUE(p1 && p2);
    EXPECT_EQ(p1->stock, 7);
    EXPECT_EQ(p1->reserved, 3);
    EXPECT_EQ(p2->stock, std::nullopt);
    EXPECT_EQ(p2->reserved, 4);

    EXPECT_EQ(accept(cancel_request(new_key(), order)).version, 2);
    p1 = backend_->peek_write_model_product("SKU-1");
    p2 = backend_->peek_write_model_product("SKU-2");
    EXPECT_EQ(p1->stock, 10);
    EXPECT_EQ(p1->reserved, 0);
    EXPECT_EQ(p2->reserved, 0);
    const auto log = whole_log();
    const auto& cancelled = expect_data<OrderCancelled>(log.back());
    EXPECT_EQ(cancelled.reason, "changed my mind");
    ASSERT_EQ(cancelled.stock_changes.size(), 2u);
    EXPECT_EQ(cancelled.stock_changes[0].stock, 10);
}

TEST_P(WriteStoreContract, ConcurrentOrdersNeverOversell) {
    constexpr int kStock = 100;
    constexpr int kThreads = 16;
    constexpr int kOrders = 300;
    accept(upsert_request(new_key(), "HOT", kStock));

    std::atomic<int> next{0}, accepted{0}, insufficient{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = next++; i < kOrders; i = next++) {
                const CommandOutcome o =
                    submit(place_request(new_key(), order_id_for(i), kUser, {{"HOT", 1}}));
                if (std::holds_alternative<Acknowledgement>(o)) {
                    ++accepted;
                } else if (std::holds_alternative<DomainError>(o) &&
                           std::get<DomainError>(o).code == DomainError::Code::InsufficientStock) {
                    ++insufficient;
                } else {
                    ++other;
                }
            }
        });
    }
    for (auto& t : threads) t.join();

    EXPECT_EQ(accepted.load(), kStock);
    EXPECT_EQ(insufficient.load(), kOrders - kStock);
    EXPECT_EQ(other.load(), 0);
    const auto product = backend_->peek_write_model_product("HOT");
    ASSERT_TRUE(product);
    EXPECT_EQ(product->stock, 0);
    EXPECT_EQ(product->reserved, kStock);

    // The newest stock figure in the log (highest stockSeq) is 0, and there is one per order.
    const auto log = whole_log();
    EXPECT_EQ(log.size(), static_cast<std::size_t>(1 + kStock));
    std::int64_t best_seq = -1;
    std::optional<std::int64_t> newest_stock;
    for (const StoredEvent& e : log) {
        if (const auto* placed = std::get_if<OrderPlaced>(&e.event.data)) {
            for (const StockChange& c : placed->stock_changes) {
                if (c.stock_seq > best_seq) {
                    best_seq = c.stock_seq;
                    newest_stock = c.stock;
                }
            }
        }
    }
    EXPECT_EQ(newest_stock, 0);
    EXPECT_EQ(best_seq, 1 + kStock);
}

TEST_P(WriteStoreContract, ConcurrentRepeatsOfOneKeyHaveExactlyOneEffect) {
    constexpr int kRepeats = 50;
    const auto request = upsert_request(new_key(), "SKU-1", 3);
    std::barrier start(kRepeats);
    std::vector<CommandOutcome> outcomes(kRepeats);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRepeats; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            outcomes[i] = submit(request);
        });
    }
    for (auto& t : threads) t.join();

    int originals = 0, duplicates = 0;
    std::set<std::string> event_ids;
    for (const auto& o : outcomes) {
        ASSERT_TRUE(std::holds_alternative<Acknowledgement>(o));
        const auto& ack = std::get<Acknowledgement>(o);
        (ack.duplicate ? duplicates : originals)++;
        event_ids.insert(ack.event_id);
    }
    EXPECT_EQ(originals, 1);
    EXPECT_EQ(duplicates, kRepeats - 1);
    EXPECT_EQ(event_ids.size(), 1u);
    EXPECT_EQ(whole_log().size(), 1u);
}

TEST_P(WriteStoreContract, OutboxHandsOutPendingEventsUntilMarkedPublished) {
    auto stats = store_->outbox_stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->pending, 0);
    EXPECT_EQ(stats->oldest_pending_age_ms, 0);
    EXPECT_EQ(stats->last_seq, 0);
    EXPECT_EQ(stats->published_seq, 0);

    accept(upsert_request(new_key(), "SKU-1", 1));
    clock_.advance(250);
    accept(upsert_request(new_key(), "SKU-2", 1));
    accept(upsert_request(new_key(), "SKU-3", 1));
    clock_.advance(750);

    stats = store_->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 3);
    EXPECT_EQ(stats->oldest_pending_age_ms, 1000);
    EXPECT_EQ(stats->published_seq, 0);

    auto first_two = store_->fetch_pending(2);
    ASSERT_TRUE(first_two) << first_two.error().message;
    ASSERT_EQ(first_two->size(), 2u);
    EXPECT_LT((*first_two)[0].seq, (*first_two)[1].seq);
    EXPECT_EQ((*first_two)[0].event.stream.id, "SKU-1");
    EXPECT_EQ((*first_two)[1].event.stream.id, "SKU-2");
    const std::int64_t last_seq = stats->last_seq;

    // Not marked yet: handed out again.
    auto again = store_->fetch_pending(2);
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)[0].event.event_id, (*first_two)[0].event.event_id);

    ASSERT_TRUE(store_->mark_published(*first_two));
    stats = store_->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 1);
    EXPECT_EQ(stats->oldest_pending_age_ms, 750);
    EXPECT_EQ(stats->published_seq, (*first_two)[1].seq);
    EXPECT_EQ(stats->last_seq, last_seq);

    auto rest = store_->fetch_pending(10);
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ((*rest)[0].event.stream.id, "SKU-3");
    EXPECT_EQ((*rest)[0].seq, last_seq);

    // Marking is idempotent and never moves backwards.
    ASSERT_TRUE(store_->mark_published(*rest));
    ASSERT_TRUE(store_->mark_published(*first_two));
    ASSERT_TRUE(store_->mark_published({}));
    stats = store_->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 0);
    EXPECT_EQ(stats->oldest_pending_age_ms, 0);
    EXPECT_EQ(stats->published_seq, last_seq);
    auto none = store_->fetch_pending(10);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());

    // The log keeps everything, for rebuilds.
    EXPECT_EQ(whole_log().size(), 3u);
    auto tail = store_->read_log((*first_two)[0].seq, 10);
    ASSERT_TRUE(tail);
    ASSERT_EQ(tail->size(), 2u);
    EXPECT_EQ((*tail)[0].seq, (*first_two)[1].seq);
    auto limited = store_->read_log(0, 1);
    ASSERT_TRUE(limited);
    EXPECT_EQ(limited->size(), 1u);
}

TEST_P(WriteStoreContract, CommitListenerHearsCommitsThatAppendedEvents) {
    std::atomic<int> calls{0};
    store_->set_commit_listener([&] { ++calls; });
    accept(upsert_request(new_key(), "SKU-1", 1));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GE(calls.load(), 1);
}

TEST_P(WriteStoreContract, ReopeningKeepsModelKeysAndOutbox) {
    const std::string key = new_key();
    const Acknowledgement upserted = accept(upsert_request(key, "SKU-1", 10, 300));
    const std::string order = order_id_for(1);
    accept(place_request(new_key(), order, kUser, {{"SKU-1", 4}}));
    auto pending = store_->fetch_pending(1);
    ASSERT_TRUE(pending);
    ASSERT_TRUE(store_->mark_published(*pending));

    reopen();

    ASSERT_TRUE(store_->check_ready());
    auto record = store_->find_idempotency(key);
    ASSERT_TRUE(record && record->has_value());
    EXPECT_EQ((*record)->ack.event_id, upserted.event_id);
    const Acknowledgement again = accept(upsert_request(key, "SKU-1", 10, 300));
    EXPECT_TRUE(again.duplicate);
    EXPECT_EQ(again.event_id, upserted.event_id);

    auto stats = store_->outbox_stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->pending, 1);
    EXPECT_EQ(stats->published_seq, (*pending)[0].seq);
    auto rest = store_->fetch_pending(10);
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ((*rest)[0].event.stream.id, order);

    EXPECT_EQ(accept(pay_request(new_key(), order, 1200)).version, 2);
    const auto product = backend_->peek_write_model_product("SKU-1");
    ASSERT_TRUE(product);
    EXPECT_EQ(product->stock, 6);
    EXPECT_EQ(product->reserved, 4);
    // Sequence numbers keep growing across the reopen.
    const auto log = whole_log();
    ASSERT_EQ(log.size(), 3u);
    EXPECT_GT(log[2].seq, log[1].seq);
}

// The admin stream view reads one stream's rows: in version order, the newest when cut, with
// commit time, whether the relay published each and when (the time its relay batch was marked,
// kept as one row per batch: ports/batch_times.h).
TEST_P(WriteStoreContract, StreamLogListsOneStreamWithPublishedFlags) {
    accept(upsert_request(new_key(), "SKU-1", 1));
    clock_.advance(10);
    accept(upsert_request(new_key(), "SKU-2", 1));
    accept(upsert_request(new_key(), "SKU-1", 2));
    clock_.advance(10);
    accept(upsert_request(new_key(), "SKU-1", 3));
    auto published = store_->fetch_pending(2);  // SKU-1 v1, SKU-2 v1
    ASSERT_TRUE(published) << published.error().message;
    ASSERT_TRUE(store_->mark_published(*published));

    const StreamKey sku1{StreamType::Product, "SKU-1"};
    auto all = store_->stream_log(sku1, 10);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 3u);
    const auto log = whole_log();
    ASSERT_EQ(log.size(), 4u);
    const std::vector<const StoredEvent*> sku1_events{&log[0], &log[2], &log[3]};
    const std::vector<std::int64_t> created{kT0, kT0 + 10, kT0 + 20};
    for (std::size_t i = 0; i < 3; ++i) {
        const StreamLogEntry& e = (*all)[i];
        EXPECT_EQ(e.version, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(e.seq, sku1_events[i]->seq);
        EXPECT_EQ(e.event_id, sku1_events[i]->event.event_id);
        EXPECT_EQ(e.type, "ProductUpserted");
        EXPECT_EQ(e.occurred_at, sku1_events[i]->event.occurred_at);
        EXPECT_EQ(e.created_ms, created[i]);
        EXPECT_EQ(e.published, i == 0) << i;
        EXPECT_EQ(e.published_ms, i == 0 ? std::optional<std::int64_t>(kT0 + 20) : std::nullopt)
            << i;
        EXPECT_EQ(e.applied_ms, std::nullopt) << "the write store knows nothing of applying";
    }

    // A second relay batch, later: each event maps to the time of its own batch.
    clock_.advance(5);
    auto rest = store_->fetch_pending(10);  // SKU-1 v2 and v3
    ASSERT_TRUE(rest) << rest.error().message;
    ASSERT_EQ(rest->size(), 2u);
    ASSERT_TRUE(store_->mark_published(*rest));
    auto later = store_->stream_log(sku1, 10);
    ASSERT_TRUE(later);
    ASSERT_EQ(later->size(), 3u);
    EXPECT_EQ((*later)[0].published_ms, kT0 + 20);
    EXPECT_EQ((*later)[1].published_ms, kT0 + 25);
    EXPECT_EQ((*later)[2].published_ms, kT0 + 25);

    auto newest = store_->stream_log(sku1, 2);
    ASSERT_TRUE(newest);
    ASSERT_EQ(newest->size(), 2u);
    EXPECT_EQ((*newest)[0].version, 2);
    EXPECT_EQ((*newest)[1].version, 3);

    auto other_type = store_->stream_log(StreamKey{StreamType::Order, "SKU-1"}, 10);
    ASSERT_TRUE(other_type);
    EXPECT_TRUE(other_type->empty());
    auto none = store_->stream_log(StreamKey{StreamType::Product, "SKU-9"}, 10);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

// The relay batch-time rows go by the store's clock (the fixture's, moved by hand): a marking
// once a prune is due deletes the rows older than kBatchTimesKeptMs and keeps the others; prunes
// come at most once every kBatchTimesPruneEveryMs. An event whose batch's row is gone is still
// published, with no time.
TEST_P(WriteStoreContract, PrunesRelayBatchTimesOlderThanTheRetentionByItsClock) {
    const auto publish = [&](const std::string& sku) {
        accept(upsert_request(new_key(), sku, 1));
        auto pending = store_->fetch_pending(10);
        ASSERT_TRUE(pending) << pending.error().message;
        ASSERT_EQ(pending->size(), 1u);
        ASSERT_TRUE(store_->mark_published(*pending));
    };
    const auto published_ms = [&](const std::string& sku) -> std::optional<std::int64_t> {
        auto log = store_->stream_log(StreamKey{StreamType::Product, sku}, 10);
        EXPECT_TRUE(log) << log.error().message;
        if (!log || log->size() != 1u) {
            ADD_FAILURE() << sku << ": no single event";
            return std::nullopt;
        }
        EXPECT_TRUE((*log)[0].published) << sku;
        return (*log)[0].published_ms;
    };
    publish("SKU-1");  // the first prune
    // Exactly the retention later, with a prune due: the first row is not older than kept.
    clock_.advance(kBatchTimesKeptMs);
    publish("SKU-2");
    EXPECT_EQ(published_ms("SKU-1"), kT0);
    // A millisecond later the first row is older than kept, but the last prune was just now.
    clock_.advance(1);
    publish("SKU-3");
    EXPECT_EQ(published_ms("SKU-1"), kT0) << "pruned sooner than kBatchTimesPruneEveryMs";
    // A prune due again: the first row goes, the newer ones stay.
    clock_.advance(kBatchTimesPruneEveryMs - 1);
    publish("SKU-4");
    EXPECT_EQ(published_ms("SKU-1"), std::nullopt);
    EXPECT_EQ(published_ms("SKU-2"), kT0 + kBatchTimesKeptMs);
    EXPECT_EQ(published_ms("SKU-3"), kT0 + kBatchTimesKeptMs + 1);
    EXPECT_EQ(published_ms("SKU-4"), kT0 + kBatchTimesKeptMs + kBatchTimesPruneEveryMs);
}

TEST_P(WriteStoreContract, IsReady) {
    EXPECT_TRUE(store_->check_ready());
}

}  // namespace
}  // namespace ordinal::contract
