// GET /v1/orders/{id}, GET /v1/users/{userId}/orders, GET /v1/products/{sku}: read model only,
// optionally behind the consistency gate.
#include <exception>
#include <memory>

#include "adapters/http/error_mapping.h"
#include "adapters/http/header_values.h"
#include "adapters/http/request_handler.h"
#include "codec/order_cursor.h"
#include "codec/response_json.h"
#include "domain/uuid.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

constexpr std::size_t kDefaultPageSize = 20;
constexpr std::size_t kMaxPageSize = 100;

bool blank(std::string_view s) {
    return s.find_first_not_of(" \t") == std::string_view::npos;
}

HttpAnswer read_order(ReadStore& reads, const std::string& id) {
    auto order = reads.get_order(id);
    if (!order) return store_unavailable(order.error());
    if (!*order) return not_found("no such order");
    return json_answer(200, write_order_json(**order));
}

HttpAnswer read_product(ReadStore& reads, const std::string& sku) {
    auto product = reads.get_product(sku);
    if (!product) return store_unavailable(product.error());
    if (!*product) return not_found("no such product");
    return json_answer(200, write_product_json(**product));
}

HttpAnswer read_user_orders(ReadStore& reads, const std::string& user, std::size_t limit,
                            const std::optional<OrderCursor>& after) {
    auto page = reads.list_user_orders(user, limit, after);
    if (!page) return store_unavailable(page.error());
    std::optional<std::string> next;
    if (page->next) next = encode_order_cursor(*page->next);
    return json_answer(200, write_order_page_json(page->orders, next));
}

}  // namespace

void RequestHandler::handle_query(const RouteMatch& route, std::string_view query,
                                  const HttpRequest& request, const Respond& respond) {
    // 1. The resource: a path parameter that cannot name one is 404, whatever else is wrong.
    std::string id;
    if (route.id == RouteId::Product) {
        if (check_sku(route.param)) return respond(not_found("no such product"));
        id = route.param;
    } else {
        auto canon = canonical_uuid(route.param);
        if (!canon)
            return respond(
                not_found(route.id == RouteId::Order ? "no such order" : "no such user"));
        id = std::move(*canon);
    }

    // 2. Consistency headers and paging parameters: every problem in one 400.
    std::vector<FieldError> problems;
    std::chrono::milliseconds wait = kDefaultConsistencyWait;
    if (request.consistency_wait_ms) {
        if (auto w = parse_consistency_wait(*request.consistency_wait_ms)) {
            wait = *w;
        } else {
            problems.push_back(
                {"X-Consistency-Wait-Ms", "must be a non-negative integer number of milliseconds"});
        }
    }
    std::optional<VersionVector> wanted;
    if (request.consistency_token && !blank(*request.consistency_token)) {
        wanted = parse_consistency_tokens(*request.consistency_token);
        if (!wanted)
            problems.push_back({"X-Consistency-Token", "is not a valid consistency token"});
    }
    std::size_t limit = kDefaultPageSize;
    std::optional<OrderCursor> after;
    if (route.id == RouteId::UserOrders) {
        bool malformed = false;
        if (auto text = query_param(query, "limit", malformed)) {
            auto n = malformed ? std::nullopt : parse_positive(*text, kMaxPageSize);
            if (n) {
                limit = *n;
            } else {
                problems.push_back({"limit", "must be an integer from 1 to 100"});
            }
        }
        malformed = false;
        auto cursor = query_param(query, "cursor", malformed);
        if (cursor && (malformed || !cursor->empty())) {  // an empty cursor asks for the first page
            after = malformed ? std::nullopt : decode_order_cursor(*cursor);
            if (!after) problems.push_back({"cursor", "is not a cursor this service issued"});
        }
    }
    if (!problems.empty())
        return respond(
            validation_failed("invalid query parameters or headers", std::move(problems)));
    if (!api_.reads) {
        return respond(
            store_unavailable(StoreError{StoreError::Kind::Unavailable, "no read store"}));
    }

    // 3. The read, now or once the gate lets it through.
    ReadStore& reads = *api_.reads;
    std::function<HttpAnswer()> read;
    switch (route.id) {
        case RouteId::Order:
            read = [&reads, id] { return read_order(reads, id); };
            break;
        case RouteId::Product:
            read = [&reads, id] { return read_product(reads, id); };
            break;
        default:
            read = [&reads, id, limit, after] { return read_user_orders(reads, id, limit, after); };
            break;
    }
    if (!wanted) return blocking(respond, std::move(read));
    read_when_consistent(*wanted, wait, std::move(read), respond);
}

HttpAnswer RequestHandler::consistency_timed_out() {
    if (consistency_timeouts_) consistency_timeouts_->inc();
    return consistency_timeout();
}

void RequestHandler::read_when_consistent(const VersionVector& wanted,
                                          std::chrono::milliseconds wait,
                                          std::function<HttpAnswer()> read,
                                          const Respond& respond) {
    if (!api_.gate) {
        // No gate in this process: answer from what the read store has reached, without waiting.
        return blocking(respond, [this, wanted, read = std::move(read)]() -> HttpAnswer {
            for (const auto& [stream, version] : wanted) {
                auto have = api_.reads->stream_version(stream);
                if (!have) return store_unavailable(have.error());
                if (*have < version) return consistency_timed_out();
            }
            return read();
        });
    }
    // The gate never blocks in wait(): it registers the query and its next poll looks. The
    // callback runs on a polling thread (the gate's, a listener's or the projector's), so the
    // read itself goes to the blocking runner.
    try {
        api_.gate->wait(wanted, wait, [this, read = std::move(read), respond](GateResult result) {
            try {
                switch (result) {
                    case GateResult::Reached:
                        return blocking(respond, read);
                    case GateResult::TimedOut:
                        return respond(consistency_timed_out());
                    case GateResult::StoreFailed:
                        return respond(
                            store_unavailable(StoreError{StoreError::Kind::Unavailable, "gate"}));
                }
                respond(consistency_timed_out());
            } catch (const std::exception&) {
                respond(error_answer(500, "internal", "the request could not be processed"));
            }
        });
    } catch (const std::exception&) {
        respond(error_answer(500, "internal", "the request could not be processed"));
    }
}

}  // namespace ordinal
