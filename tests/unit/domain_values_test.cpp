#include <gtest/gtest.h>

#include "domain/base64url.h"
#include "domain/consistency_token.h"
#include "domain/money.h"
#include "domain/text.h"
#include "domain/time_format.h"
#include "domain/uuid.h"
#include "domain/validation.h"

namespace ordinal {
namespace {

TEST(Uuid, CanonicalizesAnyCase) {
    EXPECT_EQ(canonical_uuid("0190A1B2-0000-7000-8000-0000000000AA"),
              "0190a1b2-0000-7000-8000-0000000000aa");
    EXPECT_FALSE(canonical_uuid("0190a1b2-0000-7000-8000-0000000000a"));
    EXPECT_FALSE(canonical_uuid("0190a1b2x0000-7000-8000-0000000000aa"));
    EXPECT_FALSE(canonical_uuid("g190a1b2-0000-7000-8000-0000000000aa"));
}

TEST(Uuid, V7HasVersionAndVariant) {
    const auto id = make_uuid_v7(1700000000000, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    ASSERT_TRUE(canonical_uuid(id));
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(Text, CountsCodePointsAndRejectsBadUtf8) {
    EXPECT_EQ(utf8_code_points("abc"), 3u);
    EXPECT_EQ(utf8_code_points("\xC3\xA9t\xC3\xA9"), 3u);  // été
    EXPECT_EQ(utf8_code_points("\xF0\x9F\x98\x80"), 1u);   // emoji
    EXPECT_FALSE(utf8_code_points("\xC0\xAF"));            // overlong
    EXPECT_FALSE(utf8_code_points("\xED\xA0\x80"));        // surrogate
    EXPECT_FALSE(utf8_code_points("\xE2\x82"));            // truncated
    EXPECT_FALSE(utf8_code_points("\xF4\x90\x80\x80"));    // > U+10FFFF
}

TEST(Text, PrintableUtf8ReplacesWhatIsNotTextAndKeepsTheRest) {
    EXPECT_EQ(printable_utf8("abc \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"),
              "abc \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");
    EXPECT_EQ(printable_utf8(std::string("a\0b", 3)),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(printable_utf8("\xFF\xC0\xAFx"),
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDx");                 // each bad byte
    EXPECT_EQ(printable_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
    EXPECT_TRUE(utf8_code_points(printable_utf8("\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(Validation, FieldRules) {
    EXPECT_FALSE(check_sku("ABC-1.2_x"));
    EXPECT_TRUE(check_sku(""));
    EXPECT_TRUE(check_sku(std::string(65, 'a')));
    EXPECT_TRUE(check_sku("a b"));
    EXPECT_FALSE(check_name(std::string(200, 'x')));
    // Control characters: refused in every free-text field, whatever the length.
    for (const std::string& bad :
         {std::string("a\0b", 3), std::string("a\x01"), std::string("\x1F"), std::string("x\x7Fy"),
          std::string("\x1B[31m")}) {
        EXPECT_TRUE(check_name(bad)) << bad.size();
        EXPECT_TRUE(check_payment_ref(bad));
        EXPECT_TRUE(check_reason(bad));
    }
    EXPECT_FALSE(check_reason("changed\r\nmy mind\tsorry"));
    EXPECT_FALSE(check_name("caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80"));
    EXPECT_TRUE(check_name(std::string(201, 'x')));
    std::string emoji200;
    for (int i = 0; i < 200; ++i) emoji200 += "\xF0\x9F\x98\x80";
    EXPECT_FALSE(check_name(emoji200));  // 800 bytes but 200 code points
    EXPECT_FALSE(check_currency("EUR"));
    EXPECT_TRUE(check_currency("eur"));
    EXPECT_TRUE(check_currency("EURO"));
    EXPECT_FALSE(check_qty(1));
    EXPECT_FALSE(check_qty(10000));
    EXPECT_TRUE(check_qty(0));
    EXPECT_TRUE(check_qty(10001));
}

TEST(Money, CheckedArithmetic) {
    EXPECT_EQ(checked_mul(3, 4), 12);
    EXPECT_FALSE(checked_mul(INT64_MAX, 2));
    EXPECT_FALSE(checked_add(INT64_MAX, 1));
    EXPECT_TRUE(is_currency_code("USD"));
    EXPECT_FALSE(is_currency_code("US"));
}

// RFC 4648's test vectors, in the URL-safe alphabet without padding.
TEST(Base64Url, Rfc4648VectorsAndTheUrlSafeAlphabet) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64url(plain), encoded);
        EXPECT_EQ(unbase64url(encoded), plain);
    }
    EXPECT_FALSE(unbase64url("Zh"));     // bits set past the last byte: not canonical
    EXPECT_FALSE(unbase64url("Zm9v+"));  // the standard alphabet's '+'
    EXPECT_FALSE(unbase64url("Zm9vY"));  // a length no encoding has
}

TEST(TimeFormat, Rfc3339Milliseconds) {
    EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_rfc3339_ms(1709251199999), "2024-02-29T23:59:59.999Z");
    for (std::int64_t ms : {0LL, 1709251199999LL, 1796540190669LL, 951782400000LL})
        EXPECT_EQ(parse_rfc3339_ms(format_rfc3339_ms(ms)), ms) << ms;
    EXPECT_FALSE(parse_rfc3339_ms("2024-02-29T23:59:59Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2024-13-01T00:00:00.000Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2024-02-29 23:59:59.999Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2024-02-29T23:59:5x.999Z"));
    // Days a month does not have are refused, not carried into the next month.
    EXPECT_FALSE(parse_rfc3339_ms("2023-02-29T00:00:00.000Z"));
    EXPECT_FALSE(parse_rfc3339_ms("2024-04-31T00:00:00.000Z"));
    // Before 1970 the milliseconds still count forward within their second.
    EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(parse_rfc3339_ms("1969-12-31T23:59:59.999Z"), -1);
}

TEST(ConsistencyToken, RoundTripAndMerge) {
    VersionVector a{{StreamKey{StreamType::Order, "0190a1b2-0000-7000-8000-0000000000aa"}, 3}};
    VersionVector b{{StreamKey{StreamType::Order, "0190a1b2-0000-7000-8000-0000000000aa"}, 5},
                    {StreamKey{StreamType::Product, "sku-1"}, 2}};
    const auto header = encode_consistency_token(a) + ", " + encode_consistency_token(b);
    auto merged = parse_consistency_tokens(header);
    ASSERT_TRUE(merged);
    EXPECT_EQ(merged->size(), 2u);
    EXPECT_EQ((merged->at(StreamKey{StreamType::Order, "0190a1b2-0000-7000-8000-0000000000aa"})),
              5);
    EXPECT_EQ((merged->at(StreamKey{StreamType::Product, "sku-1"})), 2);
}

TEST(ConsistencyToken, RejectsMalformed) {
    for (const char* bad :
         {"", "ct1.", "ct2.abc", "garbage", "ct1.!!!!", "ct1.bzpmb29AMQ", ",", "ct1.bzp4QDE"}) {
        EXPECT_FALSE(parse_consistency_tokens(bad)) << bad;
    }
    // A version of zero or with leading zeros is not a version.
    VersionVector v{{StreamKey{StreamType::Product, "a"}, 1}};
    auto good = encode_consistency_token(v);
    EXPECT_TRUE(parse_consistency_tokens(good));
    EXPECT_FALSE(parse_consistency_tokens(good + ","));
}

}  // namespace
}  // namespace ordinal
