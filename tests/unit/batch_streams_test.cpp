// The streams a projection batch advanced, as a projector's NOTIFY ordinal_projection names them
// (pg::Notifier) and an api's listener reads them back for its consistency gate: what is read back
// is exactly what was named, and anything else is refused, so the listener falls back to reading
// the waited-on streams itself rather than letting a reader through on a misread version.
#include "codec/batch_streams.h"

#include <gtest/gtest.h>

namespace ordinal {
namespace {

using Advanced = std::vector<std::pair<StreamKey, std::int64_t>>;

TEST(BatchStreamsText, DecodesToTheStreamsAndVersionsItWasEncodedFrom) {
    const Advanced advanced{
        {StreamKey{StreamType::Order, "0190a1b2-c3d4-7e5f-8a9b-000000000001"}, 3},
        {StreamKey{StreamType::Product, "SKU-1.a_b"}, 9'000'000'000'000},
        {StreamKey{StreamType::Product, "S"}, 1}};
    const auto back = decode_batch_streams(encode_batch_streams(advanced));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, advanced);
    const Advanced one{{StreamKey{StreamType::Order, "o"}, 1}};
    EXPECT_EQ(decode_batch_streams(encode_batch_streams(one)), one);
}

TEST(BatchStreamsText, RefusesWhatIsNotAnEncodedListOfStreams) {
    for (const std::string text :
         {"", "\n", "\n\n", "order/x 1", "\norder/x 1", "order/x 1\n", "\norder/x\n",
          "\norder/ 1\n", "\norderx 1\n", "\nitem/x 1\n", "\norder/x one\n", "\norder/x 1x\n",
          "\norder/x -\n", "\norder/x 1\n\n", "\norder/x 1\nproduct/y\n"}) {
        EXPECT_FALSE(decode_batch_streams(text)) << '"' << text << '"';
    }
}

}  // namespace
}  // namespace ordinal
