#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal {

enum class StreamType : std::uint8_t { Product, Order };

std::string_view stream_type_name(StreamType t);  // "product" | "order"
std::optional<StreamType> parse_stream_type(std::string_view name);

// One event stream: a product (id = sku) or an order (id = order UUID).
struct StreamKey {
    StreamType type = StreamType::Order;
    std::string id;
    auto operator<=>(const StreamKey&) const = default;
};

std::string describe_stream(const StreamKey& stream);  // "order/<id>", "product/<sku>"

}  // namespace ordinal
