#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "domain/events.h"
#include "domain/expected.h"
#include "domain/order.h"
#include "ports/store_error.h"

namespace ordinal {

struct ProductView {
    std::string sku;
    std::string name;
    std::string currency;
    std::int64_t price_minor = 0;
    std::optional<std::int64_t> stock;
    std::int64_t version = 0;
};

// Position in a user's order list: newest first by (created_at, order id).
struct OrderCursor {
    std::string created_at;
    std::string order_id;
};

struct OrderPage {
    std::vector<Order> orders;
    std::optional<OrderCursor> next;
};

// Where a bus consumer has got to: for the in-process bus, partition "local" and the outbox
// sequence; for Kafka, a topic partition and its next offset.
struct BusPosition {
    std::string partition;
    std::int64_t offset = 0;
};

struct ProjectionResult {
    std::vector<std::pair<StreamKey, std::int64_t>> advanced;  // streams whose version moved
    std::size_t applied = 0;
    std::size_t skipped = 0;  // already applied (redelivery)
};

struct ProjectionStats {
    std::int64_t streams = 0;
    std::vector<BusPosition> positions;
};

// The read model. Thread-safety: every method may be called concurrently.
class ReadStore {
public:
    virtual ~ReadStore() = default;

    // Applies `events` (each stream's events in version order) and records `position`, in one
    // transaction. An event whose version is not above its stream's applied version is skipped
    // (redelivery). An event that would leave a gap fails the whole batch with Internal, and
    // nothing is written.
    virtual Expected<ProjectionResult, StoreError> apply(std::span<const Event> events,
                                                        const BusPosition& position) = 0;

    virtual Expected<std::optional<Order>, StoreError> get_order(const std::string& order_id) = 0;
    virtual Expected<OrderPage, StoreError> list_user_orders(const std::string& user_id, std::size_t limit,
                                                             const std::optional<OrderCursor>& after) = 0;
    virtual Expected<std::optional<ProductView>, StoreError> get_product(const std::string& sku) = 0;

    // The last applied version of a stream (0 if none).
    virtual Expected<std::int64_t, StoreError> stream_version(const StreamKey& stream) = 0;

    // Stored bus position of `partition` (0 if none).
    virtual Expected<std::int64_t, StoreError> bus_position(const std::string& partition) = 0;

    virtual Expected<ProjectionStats, StoreError> stats() = 0;

    // Deletes every projected row and position, for a rebuild.
    virtual Expected<void, StoreError> reset() = 0;

    virtual Expected<void, StoreError> check_ready() = 0;
};

}  // namespace ordinal
