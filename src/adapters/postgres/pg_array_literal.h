#pragma once
// Array literals for unnest(): many rows in one statement, a column per array. Every element is
// quoted; NULL for nullopt.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordinal::pg {

class ArrayLiteral {
  public:
    void add(std::string_view s) {
        sep();
        // Sized once and written in one pass: the batch writer's arrays carry every event's JSON,
        // and appending a character at a time was most of the statement's cost.
        const auto escapes =
            static_cast<std::size_t>(std::count_if(s.begin(), s.end(), needs_escape));
        const std::size_t at = out_.size();
        out_.resize(at + s.size() + escapes + 2);
        char* p = out_.data() + at;
        *p++ = '"';
        for (char c : s) {
            if (needs_escape(c)) *p++ = '\\';
            *p++ = c;
        }
        *p = '"';
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
    static bool needs_escape(char c) { return c == '"' || c == '\\'; }
    void sep() {
        if (out_.size() > 1) out_ += ',';
    }
    std::string out_ = "{";
};

}  // namespace ordinal::pg
