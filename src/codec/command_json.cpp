// Over 400 lines for a reason: the strict readers of every command body, their field-level errors,
// the idempotency key and the fingerprint, read together against the HTTP contract (openapi.json).
#include "codec/command_json.h"

#include <cmath>
#include <limits>
#include <set>

#include "codec/sha256.h"
#include "codec/strict_json_reader.h"
#include "domain/uuid.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

using json = nlohmann::json;

constexpr const char* kKeyField = "idempotencyKey";

// Collects field errors up to kMaxFieldErrors, so a hostile body cannot make the answer huge.
class Details {
  public:
    explicit Details(std::vector<FieldError>& out) : out_(out) {}
    void add(std::string field, std::string message) {
        if (out_.size() < kMaxFieldErrors)
            out_.push_back(FieldError{std::move(field), std::move(message)});
    }
    void add_if(const std::string& field, const std::optional<std::string>& problem) {
        if (problem) add(field, *problem);
    }
    bool empty() const { return out_.empty(); }

  private:
    std::vector<FieldError>& out_;
};

// A JSON number as int64, or why it is not one (floats, booleans and strings are wrong types).
std::optional<std::int64_t> as_int64(const json& v, std::string& why) {
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            why = "must fit a signed 64-bit integer";
            return std::nullopt;
        }
        return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number_float()) {
        // Integer literals past 64 bits arrive as doubles; say what is wrong with them.
        const double d = v.get<double>();
        why = (std::trunc(d) == d && std::fabs(d) >= 9.2e18) ? "must fit a signed 64-bit integer"
                                                             : "must be an integer";
        return std::nullopt;
    }
    why = "must be an integer";
    return std::nullopt;
}

// Reads the members of one JSON object by name; the names never asked for are unknown fields.
class ObjectFields {
  public:
    ObjectFields(const json& obj, std::string prefix, Details& details)
        : obj_(obj), prefix_(std::move(prefix)), details_(details) {}

    std::string path(const std::string& name) const {
        return prefix_.empty() ? name : prefix_ + "." + name;
    }

    // The member, or nullptr when absent; marks the name as known.
    const json* find(const std::string& name) {
        known_.insert(name);
        const auto it = obj_.find(name);
        return it == obj_.end() ? nullptr : &*it;
    }

    std::optional<std::string> required_string(const std::string& name) {
        const json* v = find(name);
        if (!v) return missing(name);
        if (!v->is_string()) {
            details_.add(path(name), "must be a string");
            return std::nullopt;
        }
        return v->get<std::string>();
    }

    std::optional<std::int64_t> required_integer(const std::string& name) {
        const json* v = find(name);
        if (!v) return missing_int(name);
        return integer(name, *v);
    }

    // An integer or null. Absent reads as null unless `required`. Returns nullopt (and records
    // the error) when the member is missing-but-required or of a wrong type.
    std::optional<std::optional<std::int64_t>> nullable_integer(const std::string& name,
                                                                bool required = false) {
        const json* v = find(name);
        if (!v && required) {
            details_.add(path(name), "is required (an integer, or null)");
            return std::nullopt;
        }
        if (!v || v->is_null()) return std::optional<std::int64_t>{};
        auto n = integer(name, *v);
        if (!n) return std::nullopt;
        return std::optional<std::int64_t>{*n};
    }

    void report_unknown() {
        for (const auto& [name, value] : obj_.items()) {
            (void)value;
            if (!known_.count(name)) details_.add(path(name), "unknown field");
        }
    }

  private:
    std::optional<std::string> missing(const std::string& name) {
        details_.add(path(name), "is required");
        return std::nullopt;
    }
    std::optional<std::int64_t> missing_int(const std::string& name) {
        details_.add(path(name), "is required");
        return std::nullopt;
    }
    std::optional<std::int64_t> integer(const std::string& name, const json& v) {
        std::string why;
        auto n = as_int64(v, why);
        if (!n) details_.add(path(name), why);
        return n;
    }

    const json& obj_;
    std::string prefix_;
    Details& details_;
    std::set<std::string> known_;
};

struct KeyStep {
    std::optional<std::string> key;
    std::optional<std::string> problem;
};

// Step 2: the key may come from the header, the body, or both (then they must agree).
KeyStep resolve_key(const std::optional<std::string_view>& header, const json& body) {
    std::optional<std::string> from_header;
    std::optional<std::string> from_body;
    if (header) {
        from_header = canonical_uuid(*header);
        if (!from_header) return {std::nullopt, "the Idempotency-Key header must be a UUID"};
    }
    const auto it = body.find(kKeyField);
    if (it != body.end()) {
        if (it->is_string()) from_body = canonical_uuid(it->get_ref<const std::string&>());
        if (!from_body) return {std::nullopt, "must be a UUID"};
    }
    if (from_header && from_body && *from_header != *from_body) {
        return {std::nullopt, "the Idempotency-Key header and the idempotencyKey field differ"};
    }
    if (from_header) return {from_header, std::nullopt};
    if (from_body) return {from_body, std::nullopt};
    return {std::nullopt, "is required (Idempotency-Key header or idempotencyKey field)"};
}

// The path target in the form commands carry it: order ids canonical, skus as given.
std::string canonical_target(const CommandInput& in) {
    switch (in.kind) {
        case CommandKind::PlaceOrder:
            return {};
        case CommandKind::UpsertProduct:
            return std::string(in.target);
        default:
            return canonical_uuid(in.target).value_or(std::string(in.target));
    }
}

// Step 3: type + target + the body's fields other than the key, in canonical JSON (members
// sorted, no insignificant whitespace, escapes normalized by the parser). UUID-valued fields are
// lower-cased so that only a real payload difference changes the fingerprint.
std::string fingerprint_of(const CommandInput& in, const std::string& target, json body) {
    body.erase(kKeyField);
    if (in.kind == CommandKind::PlaceOrder) {
        const auto it = body.find("userId");
        if (it != body.end() && it->is_string()) {
            if (auto canon = canonical_uuid(it->get_ref<const std::string&>())) *it = *canon;
        }
    }
    const std::string name = command_kind_name(in.kind);
    std::string canonical = name;
    canonical += '\n';
    canonical += target;
    canonical += '\n';
    canonical += dump_json(body);
    return name + ":" + sha256_hex(canonical);
}

// Step 4, one function per command. Each returns the command when every field is valid.

std::optional<Command> read_upsert_product(const std::string& sku, ObjectFields& f, Details& d) {
    d.add_if("sku", check_sku(sku));
    auto name = f.required_string("name");
    if (name) d.add_if(f.path("name"), check_name(*name));
    auto currency = f.required_string("currency");
    if (currency) d.add_if(f.path("currency"), check_currency(*currency));
    auto price = f.required_integer("priceMinor");
    if (price) d.add_if(f.path("priceMinor"), check_non_negative(*price));
    auto stock = f.nullable_integer("stock", /*required=*/true);
    if (stock && *stock) d.add_if(f.path("stock"), check_non_negative(**stock));
    f.report_unknown();
    if (!d.empty() || !name || !currency || !price || !stock) return std::nullopt;
    return UpsertProduct{sku, std::move(*name), std::move(*currency), *price, *stock};
}

std::optional<std::vector<OrderItem>> read_items(ObjectFields& f, Details& d) {
    const json* items = f.find("items");
    if (!items) {
        d.add("items", "is required");
        return std::nullopt;
    }
    if (!items->is_array()) {
        d.add("items", "must be an array");
        return std::nullopt;
    }
    bool ok = true;
    if (items->empty() || items->size() > kMaxOrderItems) {
        d.add("items", "must have 1 to " + std::to_string(kMaxOrderItems) + " items");
        ok = false;
    }
    std::vector<OrderItem> out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items->size(); ++i) {
        const std::string at = "items[" + std::to_string(i) + "]";
        const json& item = (*items)[i];
        if (!item.is_object()) {
            d.add(at, "must be an object");
            ok = false;
            continue;
        }
        ObjectFields fields(item, at, d);
        bool item_ok = true;
        std::string sku;
        if (auto text = fields.required_string("sku")) {
            sku = std::move(*text);
            if (auto problem = check_sku(sku)) {
                d.add(fields.path("sku"), *problem);
                item_ok = false;
            } else if (!seen.insert(sku).second) {
                d.add(fields.path("sku"), "duplicate sku " + sku + " in one order");
                item_ok = false;
            }
        } else {
            item_ok = false;
        }
        std::int64_t qty = 0;
        if (auto n = fields.required_integer("qty")) {
            qty = *n;
            if (auto problem = check_qty(qty)) {
                d.add(fields.path("qty"), *problem);
                item_ok = false;
            }
        } else {
            item_ok = false;
        }
        fields.report_unknown();
        if (!item_ok) {
            ok = false;
            continue;
        }
        out.push_back(OrderItem{std::move(sku), qty});
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<Command> read_place_order(ObjectFields& f, Details& d) {
    auto user = f.required_string("userId");
    std::optional<std::string> user_id;
    if (user) {
        user_id = canonical_uuid(*user);
        if (!user_id) d.add("userId", "must be a UUID");
    }
    auto currency = f.required_string("currency");
    if (currency) d.add_if("currency", check_currency(*currency));
    auto items = read_items(f, d);
    f.report_unknown();
    if (!d.empty() || !user_id || !currency || !items) return std::nullopt;
    return PlaceOrder{std::string(), std::move(*user_id), std::move(*currency), std::move(*items)};
}

std::optional<std::optional<std::int64_t>> read_expected_version(ObjectFields& f, Details& d) {
    auto v = f.nullable_integer("expectedVersion");
    if (v && *v) d.add_if("expectedVersion", check_non_negative(**v));
    return v;
}

std::optional<Command> read_pay_order(const std::string& id, ObjectFields& f, Details& d) {
    auto expected = read_expected_version(f, d);
    auto ref = f.required_string("paymentRef");
    if (ref) d.add_if("paymentRef", check_payment_ref(*ref));
    auto amount = f.required_integer("amountMinor");
    if (amount) d.add_if("amountMinor", check_non_negative(*amount));
    f.report_unknown();
    if (!d.empty() || !expected || !ref || !amount) return std::nullopt;
    return PayOrder{id, *expected, std::move(*ref), *amount};
}

std::optional<Command> read_ship_order(const std::string& id, ObjectFields& f, Details& d) {
    auto expected = read_expected_version(f, d);
    f.report_unknown();
    if (!d.empty() || !expected) return std::nullopt;
    return ShipOrder{id, *expected};
}

std::optional<Command> read_cancel_order(const std::string& id, ObjectFields& f, Details& d) {
    auto expected = read_expected_version(f, d);
    auto reason = f.required_string("reason");
    if (reason) d.add_if("reason", check_reason(*reason));
    f.report_unknown();
    if (!d.empty() || !expected || !reason) return std::nullopt;
    return CancelOrder{id, *expected, std::move(*reason)};
}

bool all_whitespace(std::string_view s) {
    for (char c : s) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

Unexpected<CommandRejection> malformed(const std::string& why) {
    CommandRejection r;
    r.malformed = true;
    r.message = "the body is not a well-formed JSON object: " + why;
    r.details.push_back(FieldError{"body", why});
    return unexpected(std::move(r));
}

}  // namespace

const char* command_kind_name(CommandKind kind) {
    switch (kind) {
        case CommandKind::UpsertProduct:
            return "upsert_product";
        case CommandKind::PlaceOrder:
            return "place_order";
        case CommandKind::PayOrder:
            return "pay_order";
        case CommandKind::ShipOrder:
            return "ship_order";
        case CommandKind::CancelOrder:
            return "cancel_order";
    }
    return "unknown";
}

Expected<CommandRequest, CommandRejection> read_command(const CommandInput& in) {
    // 1. A well-formed JSON object.
    auto parsed = parse_strict_json(all_whitespace(in.body) ? std::string_view("{}") : in.body);
    if (!parsed) return malformed(parsed.error());
    const json& body = *parsed;
    if (!body.is_object()) return malformed("the body must be a JSON object");

    // 2. The key, and 3. the fingerprint once there is a key to file it under.
    CommandRejection rejection;
    Details details(rejection.details);
    const KeyStep key = resolve_key(in.idempotency_key_header, body);
    if (key.problem) details.add(kKeyField, *key.problem);
    const std::string target = canonical_target(in);
    std::string fingerprint = fingerprint_of(in, target, body);

    // 4. Every field, every error.
    ObjectFields fields(body, "", details);
    fields.find(kKeyField);  // read in step 2
    std::optional<Command> command;
    switch (in.kind) {
        case CommandKind::UpsertProduct:
            command = read_upsert_product(target, fields, details);
            break;
        case CommandKind::PlaceOrder:
            command = read_place_order(fields, details);
            break;
        case CommandKind::PayOrder:
        case CommandKind::ShipOrder:
        case CommandKind::CancelOrder: {
            // The HTTP layer answers 404 for a non-UUID id before it gets here; stay safe anyway.
            if (!canonical_uuid(target)) details.add("orderId", "must be a UUID");
            if (in.kind == CommandKind::PayOrder) command = read_pay_order(target, fields, details);
            if (in.kind == CommandKind::ShipOrder)
                command = read_ship_order(target, fields, details);
            if (in.kind == CommandKind::CancelOrder)
                command = read_cancel_order(target, fields, details);
            break;
        }
    }

    if (command && key.key && rejection.details.empty()) {
        return CommandRequest{*key.key, std::move(fingerprint), std::move(*command)};
    }
    rejection.message = "the request has invalid fields";
    if (key.key) {
        rejection.idempotency_key = key.key;
        rejection.fingerprint = std::move(fingerprint);
    }
    if (rejection.details.empty())
        rejection.details.push_back(FieldError{"body", "is invalid"});  // defensive
    return unexpected(std::move(rejection));
}

}  // namespace ordinal
