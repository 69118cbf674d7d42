#include "codec/response_json.h"

#include <limits>

#include "codec/strict_json_reader.h"
#include "domain/money.h"
#include "domain/time_format.h"

namespace ordinal {
namespace {

// Insertion-ordered objects so bodies read in the contract's order.
using ojson = nlohmann::ordered_json;

// JSON the service wrote itself and stored as text (a request's result, a heartbeat's detail):
// embedded as an object; anything else (an older or foreign writer) as an empty one.
ojson embedded_object(const std::string& text) {
    auto parsed = ojson::parse(text, nullptr, false);
    return parsed.is_object() ? parsed : ojson::object();
}

std::vector<std::string> split_roles(const std::string& roles) {
    std::vector<std::string> out;
    std::size_t from = 0;
    while (from <= roles.size() && !roles.empty()) {
        const auto comma = roles.find(',', from);
        out.push_back(roles.substr(from, comma == std::string::npos ? comma : comma - from));
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    return out;
}

ojson order_to_json(const Order& o) {
    ojson items = ojson::array();
    for (const OrderLine& line : o.lines) {
        // Placement checked that every line total fits; saturate rather than overflow regardless.
        const auto line_total = checked_mul(line.qty, line.unit_price_minor);
        items.push_back(ojson{
            {"sku", line.sku},
            {"qty", line.qty},
            {"unitPriceMinor", line.unit_price_minor},
            {"lineTotalMinor", line_total.value_or(std::numeric_limits<std::int64_t>::max())}});
    }
    return ojson{{"orderId", o.id},
                 {"userId", o.user_id},
                 {"status", std::string(order_status_name(o.status))},
                 {"currency", o.currency},
                 {"items", std::move(items)},
                 {"totalMinor", o.total_minor},
                 {"version", o.version},
                 {"createdAt", o.created_at},
                 {"updatedAt", o.updated_at}};
}

ojson components_to_json(const std::vector<ComponentHealth>& components) {
    ojson out = ojson::array();
    for (const auto& c : components)
        out.push_back(ojson{{"name", c.name},
                            {"ok", c.ok},
                            {"degraded", c.degraded},
                            {"detail", c.detail},
                            {"roles", c.roles}});
    return out;
}

template <class T>
ojson or_null(const std::optional<T>& v) {
    return v ? ojson(*v) : ojson(nullptr);
}

ojson partitions_to_json(const std::vector<PartitionPicture>& partitions) {
    ojson out = ojson::array();
    for (const PartitionPicture& p : partitions)
        out.push_back(ojson{{"partition", p.partition},
                            {"owner", or_null(p.owner)},
                            {"ownerState", or_null(p.owner_state)},
                            {"position", p.position},
                            {"busEnd", or_null(p.bus_end)},
                            {"behind", or_null(p.behind)},
                            {"positionMovedAgoMs", or_null(p.moved_ago_ms)},
                            {"stalled", p.stalled},
                            {"stalledReason", or_null(p.stalled_reason)}});
    return out;
}

ojson outbox_partitions_to_json(const std::vector<OutboxPartitionPicture>& partitions) {
    ojson out = ojson::array();
    for (const OutboxPartitionPicture& p : partitions)
        out.push_back(ojson{{"partition", p.partition},
                            {"owner", or_null(p.owner)},
                            {"ownerState", or_null(p.owner_state)},
                            {"stalled", p.stalled}});
    return out;
}

}  // namespace

std::string write_acknowledgement_json(const Acknowledgement& ack) {
    ojson j;
    j["status"] = ack.duplicate ? "duplicate" : "accepted";
    j["eventId"] = ack.event_id;
    j["streamId"] = ack.stream.id;
    if (ack.stream.type == StreamType::Order) j["orderId"] = ack.stream.id;
    j["version"] = ack.version;
    j["consistencyToken"] = ack.consistency_token;
    return dump_json(j);
}

std::string write_order_json(const Order& order) {
    return dump_json(order_to_json(order));
}

std::string write_product_json(const ProductView& p) {
    ojson j{{"sku", p.sku},
            {"name", p.name},
            {"currency", p.currency},
            {"priceMinor", p.price_minor},
            {"stock", p.stock ? ojson(*p.stock) : ojson(nullptr)},
            {"version", p.version}};
    return dump_json(j);
}

std::string write_order_page_json(const std::vector<Order>& orders,
                                  const std::optional<std::string>& next_cursor) {
    ojson list = ojson::array();
    for (const Order& o : orders) list.push_back(order_to_json(o));
    ojson j{{"orders", std::move(list)},
            {"nextCursor", next_cursor ? ojson(*next_cursor) : ojson(nullptr)}};
    return dump_json(j);
}

std::string write_error_json(const ErrorBody& e) {
    ojson j{{"error", e.error}, {"message", e.message}};
    if (!e.details.empty()) {
        ojson details = ojson::array();
        for (const auto& d : e.details)
            details.push_back(ojson{{"field", d.field}, {"message", d.message}});
        j["details"] = std::move(details);
    }
    if (e.current_version) j["currentVersion"] = *e.current_version;
    if (e.sku) j["sku"] = *e.sku;
    if (e.from) j["from"] = *e.from;
    if (e.to) j["to"] = *e.to;
    return dump_json(j);
}

std::string write_health_json() {
    return R"({"status":"ok"})";
}

std::string write_readiness_json(bool ready, const std::vector<ComponentHealth>& components) {
    // A role is ready when every component it needs is, and degraded when one of them is.
    ojson roles = ojson::object();
    bool degraded = false;
    for (const auto& c : components) {
        degraded = degraded || c.degraded;
        for (const auto& role : c.roles) {
            if (!roles.contains(role)) roles[role] = "ready";
            if (!c.ok) {
                roles[role] = "not_ready";
            } else if (c.degraded && roles[role] == "ready") {
                roles[role] = "degraded";
            }
        }
    }
    ojson j{{"status", !ready     ? "not_ready"
                       : degraded ? "degraded"
                                  : "ready"},
            {"roles", roles},
            {"components", components_to_json(components)}};
    return dump_json(j);
}

std::string write_status_json(const StatusReport& r) {
    ojson j;
    j["version"] = r.version;
    j["roles"] = r.roles;
    j["components"] = components_to_json(r.components);
    if (r.outbox_known) {
        j["outbox"] = ojson{{"pending", r.outbox.pending},
                            {"oldestPendingAgeMs", r.outbox.oldest_pending_age_ms},
                            {"lastSeq", r.outbox.last_seq},
                            {"publishedSeq", r.outbox.published_seq},
                            {"partitions", outbox_partitions_to_json(r.outbox_partitions)}};
    } else {
        j["outbox"] = nullptr;
    }
    if (r.projection_known) {
        ojson positions = ojson::array();
        for (const auto& p : r.projection.positions) {
            positions.push_back(ojson{{"partition", p.partition}, {"offset", p.offset}});
        }
        j["projection"] = ojson{{"streams", r.projection.streams},
                                {"positions", std::move(positions)},
                                {"deadLetters", r.projection.dead_letters},
                                {"partitions", partitions_to_json(r.partitions)},
                                {"behind", or_null(r.behind)}};
    } else {
        j["projection"] = nullptr;
    }
    j["relayPublishedSeq"] = r.relay_published_seq;
    j["gateWaiting"] = r.gate_waiting;
    j["processId"] = r.process_id;
    if (r.processes_known) {
        ojson list = ojson::array();
        for (const auto& p : r.processes) {
            list.push_back(ojson{{"id", p.id},
                                 {"roles", split_roles(p.roles)},
                                 {"version", p.version},
                                 {"startedAt", format_rfc3339_ms(p.started_ms)},
                                 {"lastSeenAt", format_rfc3339_ms(p.last_seen_ms)},
                                 {"lastSeenAgoMs", p.age_ms},
                                 {"state", p.age_ms > r.process_stale_ms ? "stale" : "live"},
                                 {"detail", embedded_object(p.detail)}});
        }
        j["processes"] = std::move(list);
    } else {
        j["processes"] = nullptr;
    }
    return dump_json(j);
}

std::string write_process_detail_json(const ProcessDetail& d) {
    ojson j{{"listen", d.listen}, {"relayPublishedSeq", d.relay_published_seq}};
    if (d.assignment) j["assignment"] = *d.assignment;
    if (d.outbox_partitions) j["outboxPartitions"] = *d.outbox_partitions;
    if (!d.published_ends.empty()) {
        ojson ends = ojson::array();
        for (const BusPosition& e : d.published_ends)
            ends.push_back(ojson{{"partition", e.partition}, {"end", e.offset}});
        j["publishedEnds"] = std::move(ends);
    }
    if (!d.positions.empty()) {
        ojson positions = ojson::array();
        for (const PartitionProgress& p : d.positions) {
            ojson entry{{"partition", p.partition}, {"offset", p.position}};
            if (p.end) entry["end"] = *p.end;
            entry["movedAgoMs"] = p.moved_ago_ms;
            entry["waitingMs"] = p.waiting_ms;
            positions.push_back(std::move(entry));
        }
        j["positions"] = std::move(positions);
    }
    return dump_json(j);
}

ProcessDetail read_process_detail_json(const std::string& text) {
    ProcessDetail d;
    const auto j = ojson::parse(text, nullptr, false);
    if (!j.is_object()) return d;
    // Written by this service (or an older build of it): a field of another type is left out.
    auto int_at = [](const ojson& o, const char* key) -> std::optional<std::int64_t> {
        const auto it = o.find(key);
        if (it == o.end() || !it->is_number_integer()) return std::nullopt;
        return it->get<std::int64_t>();
    };
    if (const auto it = j.find("listen"); it != j.end() && it->is_string())
        d.listen = it->get<std::string>();
    d.relay_published_seq = int_at(j, "relayPublishedSeq").value_or(0);
    if (const auto it = j.find("assignment"); it != j.end() && it->is_array()) {
        d.assignment.emplace();
        for (const auto& p : *it)
            if (p.is_string()) d.assignment->push_back(p.get<std::string>());
    }
    if (const auto it = j.find("outboxPartitions"); it != j.end() && it->is_array()) {
        d.outbox_partitions.emplace();
        for (const auto& p : *it)
            if (p.is_number_integer()) d.outbox_partitions->push_back(p.get<std::int64_t>());
    }
    if (const auto it = j.find("publishedEnds"); it != j.end() && it->is_array()) {
        for (const auto& e : *it) {
            const auto end = e.is_object() ? int_at(e, "end") : std::nullopt;
            if (end && e.contains("partition") && e["partition"].is_string())
                d.published_ends.push_back(BusPosition{e["partition"].get<std::string>(), *end});
        }
    }
    if (const auto it = j.find("positions"); it != j.end() && it->is_array()) {
        for (const auto& p : *it) {
            if (!p.is_object() || !p.contains("partition") || !p["partition"].is_string()) continue;
            PartitionProgress g;
            g.partition = p["partition"].get<std::string>();
            g.position = int_at(p, "offset").value_or(0);
            g.end = int_at(p, "end");
            g.moved_ago_ms = int_at(p, "movedAgoMs").value_or(0);
            g.waiting_ms = int_at(p, "waitingMs").value_or(0);
            d.positions.push_back(std::move(g));
        }
    }
    return d;
}

std::string write_admin_request_json(const AdminRequest& r) {
    auto at = [](std::int64_t ms) {
        return ms > 0 ? ojson(format_rfc3339_ms(ms)) : ojson(nullptr);
    };
    ojson j{{"id", r.id},
            {"kind", r.kind},
            {"target", r.target ? ojson(*r.target) : ojson(nullptr)},
            {"reason", r.reason.empty() ? ojson(nullptr) : ojson(r.reason)},
            {"state", r.state},
            {"requestedBy", r.requested_by},
            {"owner", r.owner.empty() ? ojson(nullptr) : ojson(r.owner)},
            {"attempts", r.attempts},
            {"requestedAt", at(r.requested_ms)},
            {"startedAt", at(r.started_ms)},
            {"finishedAt", at(r.finished_ms)},
            {"progress", r.progress.empty() ? ojson(nullptr) : embedded_object(r.progress)},
            {"result", r.result.empty() ? ojson(nullptr) : embedded_object(r.result)}};
    j["error"] =
        r.error_code.empty() ? ojson(nullptr) : ojson{{"code", r.error_code}, {"message", r.error}};
    return dump_json(j);
}

std::string write_rebuild_json(const RebuildReport& r) {
    ojson j{{"status", "rebuilt"},
            {"eventsReplayed", r.events_replayed},
            {"durationMs", r.duration_ms}};
    return dump_json(j);
}

std::string write_dead_letters_json(const std::vector<DeadLetter>& letters) {
    ojson list = ojson::array();
    for (const DeadLetter& d : letters) {
        list.push_back(ojson{{"id", d.id},
                             {"partition", d.position.partition},
                             {"offset", d.position.offset},
                             {"stream", d.stream},
                             {"version", d.version},
                             {"eventType", d.event_type},
                             {"payload", d.payload},
                             {"reason", d.reason},
                             {"createdAt", d.created_at}});
    }
    return dump_json(ojson{{"deadLetters", std::move(list)}});
}

std::string write_dead_letter_retry_json(const DeadLetterRetry& r) {
    ojson advanced = ojson::array();
    for (const auto& [stream, version] : r.advanced) {
        advanced.push_back(
            ojson{{"stream", std::string(stream_type_name(stream.type)) + "/" + stream.id},
                  {"version", version}});
    }
    ojson j{{"retried", r.retried},
            {"applied", r.applied},
            {"remaining", r.remaining},
            {"advanced", std::move(advanced)}};
    return dump_json(j);
}

std::string write_discard_json(std::int64_t id, const std::string& reason) {
    return dump_json(ojson{{"discarded", id}, {"reason", reason}});
}

std::string write_audit_json(const std::vector<AuditEntry>& entries) {
    ojson list = ojson::array();
    for (const AuditEntry& e : entries) {
        const bool done = e.outcome == "done";
        list.push_back(
            ojson{{"id", e.id},
                  {"at", format_rfc3339_ms(e.at_ms)},
                  {"action", e.action},
                  {"target", e.target.empty() ? ojson(nullptr) : ojson(e.target)},
                  {"reason", e.reason.empty() ? ojson(nullptr) : ojson(e.reason)},
                  {"outcome", e.outcome},
                  {"result", done ? embedded_object(e.result) : ojson(nullptr)},
                  {"error", done ? ojson(nullptr) : ojson(e.result)},
                  {"process", e.process},
                  {"requestedBy", e.requested_by.empty() ? ojson(nullptr) : ojson(e.requested_by)},
                  {"request", e.request ? ojson(*e.request) : ojson(nullptr)}});
    }
    return dump_json(ojson{{"entries", std::move(list)}});
}

}  // namespace ordinal
