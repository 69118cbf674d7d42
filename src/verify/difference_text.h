#pragma once
// The words of a finding: "field have (replay: want)" for every field that differs.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/order.h"
#include "domain/product.h"
#include "ports/read_store.h"

namespace ordinal::verify {

std::string show(const std::optional<std::int64_t>& v);
std::string show(const std::vector<OrderLine>& lines);
std::string show(std::string_view s);
std::string show(std::int64_t v);
std::string seconds_text(std::int64_t ms);  // "12.3 s"

class Differences {
  public:
    template <class T>
    Differences& field(const char* name, const T& have, const T& want) {
        if (have != want) {
            if (!text_.empty()) text_ += ", ";
            text_ += std::string(name) + " " + show(have) + " (replay: " + show(want) + ")";
        }
        return *this;
    }
    Differences& field(const char* name, const std::vector<OrderLine>& have,
                       const std::vector<OrderLine>& want);
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

std::string order_differences(const Order& have, const Order& want);
std::string catalogue_differences(const ProductView& have, const Product& want);
ProductView catalogue_of(const Product& p);

}  // namespace ordinal::verify
