#include "domain/order.h"
#include "domain/stream.h"

namespace ordinal {

std::string_view stream_type_name(StreamType t) {
    return t == StreamType::Product ? "product" : "order";
}

std::optional<StreamType> parse_stream_type(std::string_view name) {
    if (name == stream_type_name(StreamType::Product)) return StreamType::Product;
    if (name == stream_type_name(StreamType::Order)) return StreamType::Order;
    return std::nullopt;
}

std::string describe_stream(const StreamKey& stream) {
    return std::string(stream_type_name(stream.type)) + "/" + stream.id;
}

std::string_view order_status_name(OrderStatus s) {
    switch (s) {
        case OrderStatus::Placed:
            return "PLACED";
        case OrderStatus::Paid:
            return "PAID";
        case OrderStatus::Shipped:
            return "SHIPPED";
        case OrderStatus::Cancelled:
            return "CANCELLED";
    }
    return "PLACED";
}

std::optional<OrderStatus> parse_order_status(std::string_view s) {
    for (auto st :
         {OrderStatus::Placed, OrderStatus::Paid, OrderStatus::Shipped, OrderStatus::Cancelled}) {
        if (order_status_name(st) == s) return st;
    }
    return std::nullopt;
}

}  // namespace ordinal
