// Same request, same answer, on every profile: one table of edge-case inputs, each either stored
// exactly as sent (read back byte for byte with its token) or refused with a 400 naming the field
// and storing nothing. The HTTP suite runs on SQLite, PostgreSQL, PostgreSQL + Redis and
// PostgreSQL + Kafka (tests/CMakeLists.txt), so every profile answers this same table, and a
// profile that answers any row otherwise fails here.
#include <string>
#include <vector>

#include "support/service_fixture.h"

namespace ordinal::test {
namespace {

// A PUT /v1/products/{sku} body as raw text, so escapes, numbers and duplicate keys reach the
// server exactly as written.
struct ProductCase {
    std::string what;
    std::string body;
    std::string refused_field;  // empty: accepted and stored as `stored`
    json stored;                // {name, priceMinor, stock} as they must read back
};

std::string product_json(const std::string& name_literal, const std::string& price = "100",
                         const std::string& stock = "5") {
    return R"({"name":)" + name_literal + R"(,"currency":"EUR","priceMinor":)" + price +
           R"(,"stock":)" + stock + "}";
}

std::vector<ProductCase> product_cases() {
    const std::string e_acute_nfc = "caf\xC3\xA9";   // U+00E9
    const std::string e_acute_nfd = "cafe\xCC\x81";  // e + U+0301
    const std::string emoji = "\xF0\x9F\x98\x80";    // U+1F600
    return {
        {"escaped NUL in the name", product_json(R"("Mu\u0000g")"), "name", {}},
        // JSON itself forbids a raw control character inside a string.
        {"raw control byte in the name", product_json("\"Mu\x01g\""), "body", {}},
        {"DEL in the name", product_json("\"Mu\x7Fg\""), "name", {}},
        {"tab in the name is text", product_json(R"("Mug\tlarge")"), "", {{"name", "Mug\tlarge"}}},
        {"lone high surrogate", product_json(R"("Mu\ud800g")"), "body", {}},
        {"lone low surrogate", product_json(R"("Mu\udc00g")"), "body", {}},
        {"surrogate pair is one code point",
         product_json(R"("\ud83d\ude00")"),
         "",
         {{"name", emoji}}},
        {"invalid UTF-8 byte", product_json("\"Mu\xFFg\""), "body", {}},
        {"overlong UTF-8 encoding", product_json("\"\xC0\xAF\""), "body", {}},
        {"NFC kept as sent", product_json("\"" + e_acute_nfc + "\""), "", {{"name", e_acute_nfc}}},
        {"NFD kept as sent (no normalisation)",
         product_json("\"" + e_acute_nfd + "\""),
         "",
         {{"name", e_acute_nfd}}},
        {"200 code points",
         product_json("\"" + repeat(emoji, 200) + "\""),
         "",
         {{"name", repeat(emoji, 200)}}},
        {"201 code points", product_json("\"" + repeat("x", 201) + "\""), "name", {}},
        {"empty name", product_json(R"("")"), "name", {}},
        {"surrounding whitespace is kept", product_json(R"("  Mug  ")"), "", {{"name", "  Mug  "}}},
        {"int64 max price",
         product_json(R"("Max")", "9223372036854775807"),
         "",
         {{"name", "Max"}, {"priceMinor", 9223372036854775807LL}}},
        {"price past int64", product_json(R"("Max")", "9223372036854775808"), "priceMinor", {}},
        {"price far past int64",
         product_json(R"("Max")", "123456789012345678901234567890"),
         "priceMinor",
         {}},
        {"price with an exponent", product_json(R"("Exp")", "1e3"), "priceMinor", {}},
        {"price with a fraction of zero", product_json(R"("Frac")", "100.0"), "priceMinor", {}},
        {"negative zero price",
         product_json(R"("Zero")", "-0"),
         "",
         {{"name", "Zero"}, {"priceMinor", 0}}},
        {"stock past int64", product_json(R"("S")", "1", "9223372036854775808"), "stock", {}},
        {"duplicate key",
         R"({"name":"a","name":"b","currency":"EUR","priceMinor":1,"stock":1})",
         "body",
         {}},
        {"deep nesting in an unknown field",
         R"({"name":"n","currency":"EUR","priceMinor":1,"stock":1,"x":)" + repeat("[", 5000) +
             repeat("]", 5000) + "}",
         "",
         {}},
    };
}

class Parity : public ServiceTest {};

TEST_F(Parity, ProductInputsAreStoredExactlyOrRefusedNamingTheField) {
    for (const ProductCase& c : product_cases()) {
        SCOPED_TRACE(c.what);
        const std::string sku = unique_sku("PAR");
        const auto r = api().command("PUT", "/v1/products/" + sku, c.body, random_uuid());
        if (!c.refused_field.empty() || c.stored.is_null()) {
            // Refused: a 400 naming the field (or the body, for JSON that is not well formed),
            // and nothing stored.
            EXPECT_TRUE(IsValidationError(r, c.refused_field)) << r;
            EXPECT_EQ(api().get("/v1/products/" + sku).status, 404);
            continue;
        }
        ASSERT_TRUE(IsAccepted(r)) << r;
        const json view = api().must_read("/v1/products/" + sku, to_ack(r).token);
        for (const auto& [field, value] : c.stored.items()) {
            EXPECT_EQ(view[field], value) << field << " in " << view.dump();
        }
    }
}

TEST_F(Parity, IdsWithWhitespaceOrOtherFormsAreRefused) {
    const auto sku = unique_sku();
    api().create_product(sku, 100, nullptr);
    const std::string user = random_uuid();
    auto order_with_user = [&](const std::string& user_literal) {
        return api().command("POST", "/v1/orders",
                             R"({"userId":)" + user_literal +
                                 R"(,"currency":"EUR","items":[{"sku":")" + sku + R"(","qty":1}]})",
                             random_uuid());
    };
    EXPECT_TRUE(IsValidationError(order_with_user("\" " + user + "\""), "userId"));
    EXPECT_TRUE(IsValidationError(order_with_user("\"" + user + " \""), "userId"));
    EXPECT_TRUE(IsValidationError(order_with_user("\"{" + user + "}\""), "userId"));
    std::string upper = user;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    // Upper-case hex is the same UUID: accepted, and kept in its canonical lower-case form
    // (RFC 9562), the same on every profile.
    const auto upper_answer = order_with_user("\"" + upper + "\"");
    ASSERT_TRUE(IsAccepted(upper_answer)) << upper_answer;
    const auto ack = to_ack(upper_answer);
    EXPECT_EQ(api().must_read("/v1/orders/" + ack.order_id, ack.token)["userId"], user);
    // A sku with whitespace or outside [A-Za-z0-9._-] is a field error in a body.
    for (const std::string& bad : {" " + sku, sku + " ", std::string("caf\xC3\xA9")}) {
        const auto r =
            api().command("POST", "/v1/orders",
                          R"({"userId":")" + user + R"(","currency":"EUR","items":[{"sku":")" +
                              bad + R"(","qty":1}]})",
                          random_uuid());
        EXPECT_TRUE(IsValidationError(r, "sku")) << r;
    }
    EXPECT_EQ(api().get("/v1/orders/%20" + random_uuid()).status, 404);
}

}  // namespace
}  // namespace ordinal::test
