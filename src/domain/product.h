#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace ordinal {

// Write-model state of a product. `stock` is what is still available (nullopt = unlimited);
// `reserved` is the sum of quantities of non-cancelled orders. Every change of `stock`
// increments `stock_seq`, which lets the read side apply stock figures in any order.
struct Product {
    std::string sku;
    std::string name;
    std::string currency;
    std::int64_t price_minor = 0;
    std::optional<std::int64_t> stock;
    std::int64_t reserved = 0;
    std::int64_t stock_seq = 0;
    std::int64_t version = 0;  // number of ProductUpserted events
};

}  // namespace ordinal
