#include "verify/difference_text.h"

namespace ordinal::verify {

std::string show(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("null");
}

std::string show(const std::vector<OrderLine>& lines) {
    std::string out = "[";
    for (const OrderLine& l : lines) {
        if (out.size() > 1) out += ",";
        out += l.sku + "x" + std::to_string(l.qty) + "@" + std::to_string(l.unit_price_minor);
    }
    return out + "]";
}

std::string show(std::string_view s) {
    return std::string(s);
}

std::string show(std::int64_t v) {
    return std::to_string(v);
}

std::string seconds_text(std::int64_t ms) {
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

Differences& Differences::field(const char* name, const std::vector<OrderLine>& have,
                                const std::vector<OrderLine>& want) {
    const auto same = [](const OrderLine& a, const OrderLine& b) {
        return a.sku == b.sku && a.qty == b.qty && a.unit_price_minor == b.unit_price_minor;
    };
    if (std::equal(have.begin(), have.end(), want.begin(), want.end(), same)) return *this;
    return field(name, show(have), show(want));
}

std::string order_differences(const Order& have, const Order& want) {
    return Differences()
        .field("userId", have.user_id, want.user_id)
        .field("status", order_status_name(have.status), order_status_name(want.status))
        .field("currency", have.currency, want.currency)
        .field("items", have.lines, want.lines)
        .field("totalMinor", have.total_minor, want.total_minor)
        .field("version", have.version, want.version)
        .field("createdAt", have.created_at, want.created_at)
        .field("updatedAt", have.updated_at, want.updated_at)
        .text();
}

std::string catalogue_differences(const ProductView& have, const Product& want) {
    return Differences()
        .field("name", have.name, want.name)
        .field("currency", have.currency, want.currency)
        .field("priceMinor", have.price_minor, want.price_minor)
        .field("version", have.version, want.version)
        .text();
}

ProductView catalogue_of(const Product& p) {
    return ProductView{p.sku, p.name, p.currency, p.price_minor, p.stock, p.version};
}

}  // namespace ordinal::verify
