#include "core/command_executor.h"

#include <type_traits>

#include "domain/consistency_token.h"
#include "domain/decisions.h"
#include "domain/time_format.h"

namespace ordinal {
namespace {

struct Context {
    WriteTransaction& tx;
    const CommandRequest& request;
    std::int64_t now_ms;
    std::string now;
    IdGenerator& ids;
};

// `depends_on`: streams whose projected state the event changes without being on them (the
// products whose stock an order reserves or releases). The token names their versions too, so a
// reader holding it also waits for those products to be in the read model: on a bus that keeps
// no order between streams (Kafka), a product's own events may otherwise be projected later.
Acknowledgement record_event(Context& ctx, StreamKey stream, std::int64_t version, EventData data,
                             const std::vector<std::optional<Product>>& depends_on = {}) {
    Event ev;
    ev.event_id = ctx.ids.new_uuid_v7();
    ev.stream = std::move(stream);
    ev.version = version;
    ev.occurred_at = ctx.now;
    ev.causation_id = ctx.request.idempotency_key;
    ev.data = std::move(data);
    ctx.tx.append_event(ev, ctx.request.trace);

    Acknowledgement ack;
    ack.event_id = ev.event_id;
    ack.stream = ev.stream;
    ack.version = version;
    VersionVector token{{ack.stream, version}};
    for (const auto& p : depends_on) {
        if (p && p->version > 0) token[StreamKey{StreamType::Product, p->sku}] = p->version;
    }
    ack.consistency_token = encode_consistency_token(token);

    IdempotencyRecord rec;
    rec.key = ctx.request.idempotency_key;
    rec.fingerprint = ctx.request.fingerprint;
    rec.command_type = command_name(ctx.request.command);
    rec.ack = ack;
    rec.created_unix_ms = ctx.now_ms;
    ctx.tx.insert_idempotency(rec);
    return ack;
}

std::vector<std::optional<Product>> load_products(WriteTransaction& tx, const auto& items) {
    std::vector<std::optional<Product>> out;
    out.reserve(items.size());
    for (const auto& item : items) out.push_back(tx.load_product(item.sku));
    return out;
}

CommandOutcome apply_order_decision(Context& ctx, Expected<OrderDecision, DomainError> decided,
                                    const std::vector<std::optional<Product>>& products = {}) {
    if (!decided) return decided.error();
    OrderDecision& d = *decided;
    ctx.tx.save_order(d.next);
    for (const Product& p : d.products_next) ctx.tx.save_product(p);
    return record_event(ctx, StreamKey{StreamType::Order, d.next.id}, d.next.version,
                        std::move(d.event), products);
}

CommandOutcome run(Context& ctx, const UpsertProduct& cmd) {
    auto decided = decide_upsert_product(cmd, ctx.tx.load_product(cmd.sku));
    if (!decided) return decided.error();
    ctx.tx.save_product(decided->next);
    return record_event(ctx, StreamKey{StreamType::Product, cmd.sku}, decided->next.version,
                        EventData{std::move(decided->event)});
}

CommandOutcome run(Context& ctx, const PlaceOrder& cmd) {
    const auto products = load_products(ctx.tx, cmd.items);
    return apply_order_decision(ctx, decide_place_order(cmd, products, ctx.now), products);
}

CommandOutcome run(Context& ctx, const PayOrder& cmd) {
    return apply_order_decision(ctx,
                                decide_pay_order(cmd, ctx.tx.load_order(cmd.order_id), ctx.now));
}

CommandOutcome run(Context& ctx, const ShipOrder& cmd) {
    return apply_order_decision(ctx,
                                decide_ship_order(cmd, ctx.tx.load_order(cmd.order_id), ctx.now));
}

CommandOutcome run(Context& ctx, const CancelOrder& cmd) {
    const auto order = ctx.tx.load_order(cmd.order_id);
    std::vector<std::optional<Product>> products;
    if (order) products = load_products(ctx.tx, order->lines);
    return apply_order_decision(ctx, decide_cancel_order(cmd, order, products, ctx.now), products);
}

}  // namespace

CommandOutcome execute_command(WriteTransaction& tx, const CommandRequest& request,
                               const Clock& clock, IdGenerator& ids) {
    if (auto existing = tx.find_idempotency(request.idempotency_key))
        return answer_for_recorded_key(*existing, request.fingerprint);
    const std::int64_t now_ms = clock.unix_ms();
    Context ctx{tx, request, now_ms, format_rfc3339_ms(now_ms), ids};
    return std::visit([&](const auto& cmd) { return run(ctx, cmd); }, request.command);
}

CommandRules command_rules(const Clock& clock, IdGenerator& ids) {
    return [&clock, &ids](WriteTransaction& tx, const CommandRequest& request) {
        return execute_command(tx, request, clock, ids);
    };
}

}  // namespace ordinal
