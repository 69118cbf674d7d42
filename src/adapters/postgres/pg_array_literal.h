#pragma once
// Array literals for unnest(): many rows in one statement, a column per array. Every element is
// quoted; NULL for nullopt.
#include <cstdint>
#include <optional>
#include <string>

namespace ordinal::pg {

class ArrayLiteral {
  public:
    void add(const std::string& s) {
        sep();
        out_ += '"';
        for (char c : s) {
            if (c == '"' || c == '\\') out_ += '\\';
            out_ += c;
        }
        out_ += '"';
    }
    void add(std::int64_t v) {
        sep();
        out_ += std::to_string(v);
    }
    void add(const std::optional<std::int64_t>& v) {
        if (v) {
            add(*v);
        } else {
            sep();
            out_ += "NULL";
        }
    }
    bool empty() const { return out_.size() == 1; }
    std::string str() const { return out_ + "}"; }

  private:
    void sep() {
        if (out_.size() > 1) out_ += ',';
    }
    std::string out_ = "{";
};

}  // namespace ordinal::pg
