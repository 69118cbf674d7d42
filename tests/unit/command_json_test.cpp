// Strict command readers: order of checks, every field rule, key sources, fingerprints and
// hostile input (codec/command_json.h).
#include "codec/command_json.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/sha256.h"

namespace ordinal {
namespace {

constexpr const char* kKey = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
constexpr const char* kKeyUpper = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
constexpr const char* kOtherKey = "9b2f7c1e-0a4d-4c55-8f00-1234567890ab";
constexpr const char* kOrderId = "0190f0a4-6b3c-7d2e-8f10-112233445566";
constexpr const char* kUser = "5d0c1a7e-2b3f-4c6d-9e8f-a1b2c3d4e5f6";

Expected<CommandRequest, CommandRejection> read(CommandKind kind, std::string_view target,
                                                std::string_view body,
                                                std::optional<std::string_view> header = kKey) {
    return read_command(CommandInput{kind, target, body, header});
}

std::string place_body(const std::string& extra = "") {
    return std::string(R"({"userId":")") + kUser +
           R"(","currency":"EUR","items":[{"sku":"A-1","qty":2},{"sku":"B.2","qty":1}])" + extra +
           "}";
}

std::vector<std::string> fields_of(const CommandRejection& r) {
    std::vector<std::string> out;
    for (const auto& d : r.details) out.push_back(d.field);
    return out;
}

bool has_field(const CommandRejection& r, const std::string& field) {
    for (const auto& d : r.details) {
        if (d.field == field) return true;
    }
    return false;
}

// --- valid commands ---------------------------------------------------------------------------

TEST(CommandJson, ReadsUpsertProduct) {
    auto r = read(CommandKind::UpsertProduct, "SKU_1.x-y",
                  R"({"name":"Tea","currency":"EUR","priceMinor":450,"stock":12})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->idempotency_key, kKey);
    const auto& cmd = std::get<UpsertProduct>(r->command);
    EXPECT_EQ(cmd.sku, "SKU_1.x-y");
    EXPECT_EQ(cmd.name, "Tea");
    EXPECT_EQ(cmd.currency, "EUR");
    EXPECT_EQ(cmd.price_minor, 450);
    EXPECT_EQ(cmd.stock, 12);
}

TEST(CommandJson, StockIsRequiredAndNullMeansUnlimited) {
    auto absent =
        read(CommandKind::UpsertProduct, "S", R"({"name":"Tea","currency":"EUR","priceMinor":0})");
    ASSERT_FALSE(absent);
    EXPECT_EQ(fields_of(absent.error()), std::vector<std::string>{"stock"});
    auto null = read(CommandKind::UpsertProduct, "S",
                     R"({"name":"Tea","currency":"EUR","priceMinor":0,"stock":null})");
    ASSERT_TRUE(null);
    EXPECT_FALSE(std::get<UpsertProduct>(null->command).stock.has_value());
    auto zero = read(CommandKind::UpsertProduct, "S",
                     R"({"name":"Tea","currency":"EUR","priceMinor":0,"stock":0})");
    ASSERT_TRUE(zero);
    EXPECT_EQ(std::get<UpsertProduct>(zero->command).stock, 0);
}

TEST(CommandJson, ReadsPlaceOrderWithoutAssigningAnId) {
    auto r = read(CommandKind::PlaceOrder, "", place_body());
    ASSERT_TRUE(r) << r.error().message;
    const auto& cmd = std::get<PlaceOrder>(r->command);
    EXPECT_TRUE(cmd.order_id.empty());
    EXPECT_EQ(cmd.user_id, kUser);
    EXPECT_EQ(cmd.currency, "EUR");
    ASSERT_EQ(cmd.items.size(), 2u);
    EXPECT_EQ(cmd.items[0].sku, "A-1");
    EXPECT_EQ(cmd.items[0].qty, 2);
    EXPECT_EQ(cmd.items[1].sku, "B.2");
}

TEST(CommandJson, CanonicalizesUserIdAndOrderId) {
    std::string body = place_body();
    body.replace(body.find(kUser), 36, "5D0C1A7E-2B3F-4C6D-9E8F-A1B2C3D4E5F6");
    auto r = read(CommandKind::PlaceOrder, "", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::get<PlaceOrder>(r->command).user_id, kUser);

    auto ship = read(CommandKind::ShipOrder, "0190F0A4-6B3C-7D2E-8F10-112233445566", "{}");
    ASSERT_TRUE(ship);
    EXPECT_EQ(std::get<ShipOrder>(ship->command).order_id, kOrderId);
}

TEST(CommandJson, ReadsPayShipCancel) {
    auto pay = read(CommandKind::PayOrder, kOrderId,
                    R"({"expectedVersion":1,"paymentRef":"pay-1","amountMinor":900})");
    ASSERT_TRUE(pay) << pay.error().message;
    const auto& p = std::get<PayOrder>(pay->command);
    EXPECT_EQ(p.order_id, kOrderId);
    EXPECT_EQ(p.expected_version, 1);
    EXPECT_EQ(p.payment_ref, "pay-1");
    EXPECT_EQ(p.amount_minor, 900);

    auto ship = read(CommandKind::ShipOrder, kOrderId, R"({"expectedVersion":null})");
    ASSERT_TRUE(ship);
    EXPECT_FALSE(std::get<ShipOrder>(ship->command).expected_version.has_value());

    auto cancel = read(CommandKind::CancelOrder, kOrderId, R"({"reason":"changed my mind"})");
    ASSERT_TRUE(cancel);
    EXPECT_EQ(std::get<CancelOrder>(cancel->command).reason, "changed my mind");
    EXPECT_FALSE(std::get<CancelOrder>(cancel->command).expected_version.has_value());
}

TEST(CommandJson, EmptyBodyReadsAsEmptyObject) {
    auto r = read(CommandKind::ShipOrder, kOrderId, "");
    ASSERT_TRUE(r);
    auto ws = read(CommandKind::ShipOrder, kOrderId, " \r\n\t");
    ASSERT_TRUE(ws);
    auto place = read(CommandKind::PlaceOrder, "", "");
    ASSERT_FALSE(place);
    EXPECT_FALSE(place.error().malformed);
    EXPECT_TRUE(has_field(place.error(), "userId"));
}

// --- step 1: malformed bodies ------------------------------------------------------------------

TEST(CommandJson, MalformedBodiesAreRejectedBeforeTheKey) {
    for (std::string body : {"{", "{\"a\":}", "[]", "\"text\"", "42", "null", "{} {}", "{\"a\":1,}",
                             "{'a':1}", "nul", "{\"a\":1}x"}) {
        auto r = read(CommandKind::ShipOrder, kOrderId, body);
        ASSERT_FALSE(r) << body;
        EXPECT_TRUE(r.error().malformed) << body;
        EXPECT_FALSE(r.error().idempotency_key.has_value()) << body;
        EXPECT_FALSE(r.error().fingerprint.has_value()) << body;
        ASSERT_EQ(r.error().details.size(), 1u);
        EXPECT_EQ(r.error().details[0].field, "body");
    }
}

TEST(CommandJson, InvalidUtf8IsMalformed) {
    const std::string cases[] = {
        std::string("{\"reason\":\"caf\xC3\"}"),           // truncated sequence
        std::string("{\"reason\":\"\xC0\xAF\"}"),          // overlong
        std::string("{\"reason\":\"\xED\xA0\x80\"}"),      // UTF-16 surrogate encoded in UTF-8
        std::string("{\"reason\":\"\xF4\x90\x80\x80\"}"),  // past U+10FFFF
        std::string("{\"reason\":\"\\ud800\"}"),           // lone surrogate escape
        std::string("{\"reason\":\"ok\"}\xFF"),
    };
    for (const auto& body : cases) {
        auto r = read(CommandKind::CancelOrder, kOrderId, body);
        ASSERT_FALSE(r);
        EXPECT_TRUE(r.error().malformed);
    }
    auto ok =
        read(CommandKind::CancelOrder, kOrderId, "{\"reason\":\"\\ud83d\\ude00 caf\xC3\xA9\"}");
    EXPECT_TRUE(ok);
}

TEST(CommandJson, DeepNestingIsRejectedWithoutRecursion) {
    // 32 levels are allowed (the field is then merely unknown); 33 are malformed.
    std::string ok = "{\"x\":" + std::string(30, '[') + std::string(30, ']') + "}";
    auto r = read(CommandKind::ShipOrder, kOrderId, ok);
    ASSERT_FALSE(r);
    EXPECT_FALSE(r.error().malformed);
    EXPECT_EQ(fields_of(r.error()), std::vector<std::string>{"x"});

    std::string deep = "{\"x\":" + std::string(32, '[') + std::string(32, ']') + "}";
    r = read(CommandKind::ShipOrder, kOrderId, deep);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().malformed);

    // A million opening brackets must not exhaust the stack.
    std::string hostile(1'000'000, '[');
    r = read(CommandKind::ShipOrder, kOrderId, hostile);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().malformed);
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    r = read(CommandKind::ShipOrder, kOrderId, objects);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().malformed);
}

TEST(CommandJson, DuplicateMemberNamesAreMalformed) {
    auto r = read(CommandKind::CancelOrder, kOrderId, R"({"reason":"a","reason":"b"})");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().malformed);
}

TEST(CommandJson, HugeNumbersDoNotCrash) {
    auto overflow_double =
        read(CommandKind::PayOrder, kOrderId, R"({"paymentRef":"p","amountMinor":1e999})");
    ASSERT_FALSE(overflow_double);
    EXPECT_TRUE(overflow_double.error().malformed);

    // Past a double's range an integer literal is malformed; within it, a field error.
    const std::string digits(5000, '9');
    auto long_int =
        read(CommandKind::PayOrder, kOrderId, R"({"paymentRef":"p","amountMinor":)" + digits + "}");
    ASSERT_FALSE(long_int);
    EXPECT_TRUE(long_int.error().malformed);
    auto thirty = read(CommandKind::PayOrder, kOrderId,
                       R"({"paymentRef":"p","amountMinor":)" + std::string(30, '9') + "}");
    ASSERT_FALSE(thirty);
    EXPECT_FALSE(thirty.error().malformed);
    EXPECT_EQ(fields_of(thirty.error()), std::vector<std::string>{"amountMinor"});
    EXPECT_EQ(thirty.error().details[0].message, "must fit a signed 64-bit integer");

    auto past_int64 = read(CommandKind::PayOrder, kOrderId,
                           R"({"paymentRef":"p","amountMinor":9223372036854775808})");
    ASSERT_FALSE(past_int64);
    EXPECT_EQ(past_int64.error().details[0].message, "must fit a signed 64-bit integer");

    auto max = read(CommandKind::PayOrder, kOrderId,
                    R"({"paymentRef":"p","amountMinor":9223372036854775807})");
    ASSERT_TRUE(max);
    EXPECT_EQ(std::get<PayOrder>(max->command).amount_minor, 9223372036854775807LL);

    auto below = read(CommandKind::PayOrder, kOrderId,
                      R"({"paymentRef":"p","amountMinor":-9223372036854775809})");
    ASSERT_FALSE(below);
    EXPECT_TRUE(has_field(below.error(), "amountMinor"));
}

// --- step 2: the idempotency key ---------------------------------------------------------------

TEST(CommandJson, KeyFromHeaderBodyOrBoth) {
    auto header = read(CommandKind::ShipOrder, kOrderId, "{}", kKeyUpper);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->idempotency_key, kKey);

    auto body = read(CommandKind::ShipOrder, kOrderId,
                     std::string(R"({"idempotencyKey":")") + kKeyUpper + "\"}", std::nullopt);
    ASSERT_TRUE(body);
    EXPECT_EQ(body->idempotency_key, kKey);

    auto both = read(CommandKind::ShipOrder, kOrderId,
                     std::string(R"({"idempotencyKey":")") + kKey + "\"}", kKeyUpper);
    ASSERT_TRUE(both);
    EXPECT_EQ(both->idempotency_key, kKey);
    // The key is not part of the payload.
    EXPECT_EQ(header->fingerprint, body->fingerprint);
    EXPECT_EQ(header->fingerprint, both->fingerprint);
}

TEST(CommandJson, KeyProblemsAreFieldErrorsOnIdempotencyKey) {
    auto missing = read(CommandKind::ShipOrder, kOrderId, "{}", std::nullopt);
    ASSERT_FALSE(missing);
    EXPECT_FALSE(missing.error().malformed);
    EXPECT_EQ(fields_of(missing.error()), std::vector<std::string>{"idempotencyKey"});
    EXPECT_FALSE(missing.error().idempotency_key.has_value());

    auto bad_header = read(CommandKind::ShipOrder, kOrderId, "{}", "not-a-uuid");
    ASSERT_FALSE(bad_header);
    EXPECT_EQ(fields_of(bad_header.error()), std::vector<std::string>{"idempotencyKey"});

    auto bad_body =
        read(CommandKind::ShipOrder, kOrderId, R"({"idempotencyKey":12})", std::nullopt);
    ASSERT_FALSE(bad_body);
    EXPECT_EQ(fields_of(bad_body.error()), std::vector<std::string>{"idempotencyKey"});

    auto differ = read(CommandKind::ShipOrder, kOrderId,
                       std::string(R"({"idempotencyKey":")") + kOtherKey + "\"}");
    ASSERT_FALSE(differ);
    EXPECT_EQ(fields_of(differ.error()), std::vector<std::string>{"idempotencyKey"});
    EXPECT_FALSE(differ.error().idempotency_key.has_value());

    auto empty = read(CommandKind::ShipOrder, kOrderId, "{}", "");
    ASSERT_FALSE(empty);
}

TEST(CommandJson, KeyErrorsAndFieldErrorsAreReportedTogether) {
    auto r = read(CommandKind::CancelOrder, kOrderId, R"({"reason":""})", std::nullopt);
    ASSERT_FALSE(r);
    EXPECT_EQ(fields_of(r.error()), (std::vector<std::string>{"idempotencyKey", "reason"}));
}

TEST(CommandJson, FieldErrorsKeepTheKeyAndFingerprintForTheUsedKeyLookup) {
    auto r = read(CommandKind::CancelOrder, kOrderId, R"({"reason":""})", kKeyUpper);
    ASSERT_FALSE(r);
    ASSERT_TRUE(r.error().idempotency_key.has_value());
    EXPECT_EQ(*r.error().idempotency_key, kKey);
    ASSERT_TRUE(r.error().fingerprint.has_value());
    auto valid = read(CommandKind::CancelOrder, kOrderId, R"({"reason":"x"})");
    ASSERT_TRUE(valid);
    EXPECT_NE(*r.error().fingerprint, valid->fingerprint);
}

// --- step 3: fingerprints ----------------------------------------------------------------------

TEST(CommandJson, FingerprintIgnoresKeyOrderWhitespaceEscapesAndUuidCase) {
    auto a = read(CommandKind::UpsertProduct, "S",
                  R"({"name":"Tea","currency":"EUR","priceMinor":1,"stock":null})");
    auto b = read(
        CommandKind::UpsertProduct, "S",
        " {\n \"priceMinor\" : 1, \"currency\":\"EUR\", \"name\":\"T\\u0065a\", \"stock\":null } ",
        kOtherKey);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_EQ(a->fingerprint, b->fingerprint);

    std::string upper = place_body();
    upper.replace(upper.find(kUser), 36, "5D0C1A7E-2B3F-4C6D-9E8F-A1B2C3D4E5F6");
    auto c = read(CommandKind::PlaceOrder, "", place_body());
    auto d = read(CommandKind::PlaceOrder, "", upper);
    ASSERT_TRUE(c);
    ASSERT_TRUE(d);
    EXPECT_EQ(c->fingerprint, d->fingerprint);

    auto e = read(CommandKind::ShipOrder, kOrderId, "{}");
    auto f = read(CommandKind::ShipOrder, "0190F0A4-6B3C-7D2E-8F10-112233445566", "");
    ASSERT_TRUE(e);
    ASSERT_TRUE(f);
    EXPECT_EQ(e->fingerprint, f->fingerprint);
}

TEST(CommandJson, FingerprintDiffersOnTypeTargetOrFields) {
    auto base = read(CommandKind::UpsertProduct, "S",
                     R"({"name":"Tea","currency":"EUR","priceMinor":1,"stock":null})");
    auto other_field = read(CommandKind::UpsertProduct, "S",
                            R"({"name":"Tea","currency":"EUR","priceMinor":2,"stock":null})");
    auto other_target = read(CommandKind::UpsertProduct, "T",
                             R"({"name":"Tea","currency":"EUR","priceMinor":1,"stock":null})");
    ASSERT_TRUE(base && other_field && other_target);
    EXPECT_NE(base->fingerprint, other_field->fingerprint);
    EXPECT_NE(base->fingerprint, other_target->fingerprint);

    auto ship = read(CommandKind::ShipOrder, kOrderId, "{}");
    auto ship_other = read(CommandKind::ShipOrder, "0190f0a4-6b3c-7d2e-8f10-000000000000", "{}");
    auto cancel_like = read(CommandKind::CancelOrder, kOrderId, "{}");
    ASSERT_TRUE(ship && ship_other);
    ASSERT_FALSE(cancel_like);
    EXPECT_NE(ship->fingerprint, ship_other->fingerprint);
    EXPECT_NE(ship->fingerprint, *cancel_like.error().fingerprint);

    auto order_a = read(CommandKind::PlaceOrder, "", place_body());
    std::string swapped =
        std::string(R"({"userId":")") + kUser +
        R"(","currency":"EUR","items":[{"sku":"B.2","qty":1},{"sku":"A-1","qty":2}]})";
    auto order_b = read(CommandKind::PlaceOrder, "", swapped);
    ASSERT_TRUE(order_a && order_b);
    EXPECT_NE(order_a->fingerprint, order_b->fingerprint);
    EXPECT_EQ(order_a->fingerprint.rfind("place_order:", 0), 0u);
}

// --- step 4: field validation ------------------------------------------------------------------

TEST(CommandJson, WrongTypesAreRejected) {
    auto r = read(CommandKind::UpsertProduct, "S",
                  R"({"name":5,"currency":null,"priceMinor":"450","stock":1.0})");
    ASSERT_FALSE(r);
    EXPECT_EQ(fields_of(r.error()),
              (std::vector<std::string>{"name", "currency", "priceMinor", "stock"}));

    for (std::string v : {"1.0", "1.5", "1e2", "true", "\"1\"", "[1]", "{}"}) {
        auto q =
            read(CommandKind::PayOrder, kOrderId, R"({"paymentRef":"p","amountMinor":)" + v + "}");
        ASSERT_FALSE(q) << v;
        EXPECT_EQ(fields_of(q.error()), std::vector<std::string>{"amountMinor"}) << v;
        EXPECT_EQ(q.error().details[0].message, "must be an integer") << v;
    }
}

TEST(CommandJson, RequiredFieldsAndUnknownFields) {
    auto r = read(CommandKind::UpsertProduct, "S", R"({"extra":1,"Name":"x"})");
    ASSERT_FALSE(r);
    EXPECT_EQ(fields_of(r.error()), (std::vector<std::string>{"name", "currency", "priceMinor",
                                                              "stock", "Name", "extra"}));
    EXPECT_EQ(r.error().details[0].message, "is required");
    EXPECT_EQ(r.error().details[5].message, "unknown field");

    auto nested = read(CommandKind::PlaceOrder, "",
                       std::string(R"({"userId":")") + kUser +
                           R"(","currency":"EUR","items":[{"sku":"A","qty":1,"price":3}]})");
    ASSERT_FALSE(nested);
    EXPECT_EQ(fields_of(nested.error()), std::vector<std::string>{"items[0].price"});
}

TEST(CommandJson, ProductRules) {
    auto r = read(CommandKind::UpsertProduct, "bad sku!",
                  R"({"name":"","currency":"eur","priceMinor":-1,"stock":-1})");
    ASSERT_FALSE(r);
    EXPECT_EQ(fields_of(r.error()),
              (std::vector<std::string>{"sku", "name", "currency", "priceMinor", "stock"}));

    EXPECT_FALSE(read(CommandKind::UpsertProduct, std::string(65, 'a'),
                      R"({"name":"n","currency":"EUR","priceMinor":0,"stock":null})"));
    EXPECT_TRUE(read(CommandKind::UpsertProduct, std::string(64, 'a'),
                     R"({"name":"n","currency":"EUR","priceMinor":0,"stock":null})"));
    for (std::string c : {"EU", "EURO", "E1R", "\"\""}) {
        EXPECT_FALSE(read(CommandKind::UpsertProduct, "S",
                          R"({"name":"n","currency":")" + c + R"(","priceMinor":0,"stock":null})"));
    }
}

TEST(CommandJson, NameLengthCountsCodePoints) {
    auto body = [](const std::string& name) {
        return R"({"name":")" + name + R"(","currency":"EUR","priceMinor":0,"stock":5})";
    };
    std::string euro200;
    for (int i = 0; i < 200; ++i) euro200 += "\xE2\x82\xAC";  // 3 bytes each, 600 bytes
    EXPECT_TRUE(read(CommandKind::UpsertProduct, "S", body(euro200)));
    EXPECT_FALSE(read(CommandKind::UpsertProduct, "S", body(euro200 + "\xE2\x82\xAC")));
    std::string emoji200;
    for (int i = 0; i < 200; ++i) emoji200 += "\\ud83d\\ude00";  // escaped astral code points
    EXPECT_TRUE(read(CommandKind::UpsertProduct, "S", body(emoji200)));
    EXPECT_FALSE(read(CommandKind::UpsertProduct, "S", body(std::string(201, 'x'))));
}

TEST(CommandJson, OrderRules) {
    auto make = [](const std::string& user, const std::string& items) {
        return R"({"userId":")" + user + R"(","currency":"EUR","items":)" + items + "}";
    };
    auto bad_user = read(CommandKind::PlaceOrder, "", make("user-1", R"([{"sku":"A","qty":1}])"));
    ASSERT_FALSE(bad_user);
    EXPECT_EQ(fields_of(bad_user.error()), std::vector<std::string>{"userId"});

    auto none = read(CommandKind::PlaceOrder, "", make(kUser, "[]"));
    ASSERT_FALSE(none);
    EXPECT_EQ(fields_of(none.error()), std::vector<std::string>{"items"});

    std::string many = "[";
    for (int i = 0; i < 101; ++i)
        many += std::string(i ? "," : "") + R"({"sku":"S)" + std::to_string(i) + R"(","qty":1})";
    many += "]";
    auto too_many = read(CommandKind::PlaceOrder, "", make(kUser, many));
    ASSERT_FALSE(too_many);
    EXPECT_EQ(fields_of(too_many.error()), std::vector<std::string>{"items"});
    std::string hundred = many.substr(0, many.rfind(",{")) + "]";
    EXPECT_TRUE(read(CommandKind::PlaceOrder, "", make(kUser, hundred)));

    auto qty = read(
        CommandKind::PlaceOrder, "",
        make(
            kUser,
            R"([{"sku":"A","qty":1},{"sku":"B","qty":0},{"sku":"C","qty":10001},{"sku":"D","qty":10000}])"));
    ASSERT_FALSE(qty);
    EXPECT_EQ(fields_of(qty.error()), (std::vector<std::string>{"items[1].qty", "items[2].qty"}));

    auto dup =
        read(CommandKind::PlaceOrder, "",
             make(kUser, R"([{"sku":"A","qty":1},{"sku":"B","qty":1},{"sku":"A","qty":2}])"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(fields_of(dup.error()), std::vector<std::string>{"items[2].sku"});

    auto shapes = read(CommandKind::PlaceOrder, "",
                       make(kUser, R"([5,{"qty":1},{"sku":"bad sku","qty":1}])"));
    ASSERT_FALSE(shapes);
    EXPECT_EQ(fields_of(shapes.error()),
              (std::vector<std::string>{"items[0]", "items[1].sku", "items[2].sku"}));

    auto not_array = read(CommandKind::PlaceOrder, "", make(kUser, R"({"sku":"A"})"));
    ASSERT_FALSE(not_array);
    EXPECT_EQ(fields_of(not_array.error()), std::vector<std::string>{"items"});
}

TEST(CommandJson, PayShipCancelRules) {
    auto pay = read(CommandKind::PayOrder, kOrderId,
                    R"({"expectedVersion":-1,"paymentRef":"","amountMinor":-5})");
    ASSERT_FALSE(pay);
    EXPECT_EQ(fields_of(pay.error()),
              (std::vector<std::string>{"expectedVersion", "paymentRef", "amountMinor"}));

    EXPECT_TRUE(read(CommandKind::PayOrder, kOrderId,
                     R"({"expectedVersion":0,"paymentRef":"p","amountMinor":0})"));
    EXPECT_FALSE(read(CommandKind::PayOrder, kOrderId,
                      R"({"paymentRef":")" + std::string(201, 'r') + R"(","amountMinor":0})"));

    auto ship = read(CommandKind::ShipOrder, kOrderId, R"({"expectedVersion":"1"})");
    ASSERT_FALSE(ship);
    EXPECT_EQ(fields_of(ship.error()), std::vector<std::string>{"expectedVersion"});

    EXPECT_TRUE(
        read(CommandKind::CancelOrder, kOrderId, R"({"reason":")" + std::string(500, 'r') + "\"}"));
    EXPECT_FALSE(
        read(CommandKind::CancelOrder, kOrderId, R"({"reason":")" + std::string(501, 'r') + "\"}"));
    auto missing = read(CommandKind::CancelOrder, kOrderId, "{}");
    ASSERT_FALSE(missing);
    EXPECT_EQ(fields_of(missing.error()), std::vector<std::string>{"reason"});

    auto bad_target = read(CommandKind::ShipOrder, "not-a-uuid", "{}");
    ASSERT_FALSE(bad_target);
    EXPECT_EQ(fields_of(bad_target.error()), std::vector<std::string>{"orderId"});
}

TEST(CommandJson, DetailsAreCapped) {
    std::string body = "{";
    for (int i = 0; i < 500; ++i)
        body += std::string(i ? "," : "") + "\"f" + std::to_string(i) + "\":1";
    body += "}";
    auto r = read(CommandKind::ShipOrder, kOrderId, body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().details.size(), kMaxFieldErrors);
}

TEST(CommandJson, KindNamesMatchTheDomain) {
    EXPECT_STREQ(command_kind_name(CommandKind::UpsertProduct),
                 command_name(Command{UpsertProduct{}}));
    EXPECT_STREQ(command_kind_name(CommandKind::PlaceOrder), command_name(Command{PlaceOrder{}}));
    EXPECT_STREQ(command_kind_name(CommandKind::PayOrder), command_name(Command{PayOrder{}}));
    EXPECT_STREQ(command_kind_name(CommandKind::ShipOrder), command_name(Command{ShipOrder{}}));
    EXPECT_STREQ(command_kind_name(CommandKind::CancelOrder), command_name(Command{CancelOrder{}}));
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    EXPECT_EQ(sha256_hex(std::string(64, 'x')).size(), 64u);
}

}  // namespace
}  // namespace ordinal
