// The parsing is nlohmann's (its SAX parser); only the DOM building is here, to refuse duplicate
// member names and bound the depth, which nlohmann's own DOM builder does not (see the header).
#include "codec/strict_json_reader.h"

#include <vector>

namespace ordinal {
namespace {

using json = nlohmann::json;

// A SAX handler that builds the DOM like the library's own, plus the depth and duplicate checks.
// Pointers on `stack_` stay valid: they point at ancestors of the current position, and a
// container only grows at its end while none of its children is open.
class StrictDomBuilder {
  public:
    explicit StrictDomBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

    bool null() { return put(json(nullptr)) != nullptr; }
    bool boolean(bool v) { return put(json(v)) != nullptr; }
    bool number_integer(json::number_integer_t v) { return put(json(v)) != nullptr; }
    bool number_unsigned(json::number_unsigned_t v) { return put(json(v)) != nullptr; }
    bool number_float(json::number_float_t v, const json::string_t&) {
        return put(json(v)) != nullptr;
    }
    bool string(json::string_t& v) { return put(json(std::move(v))) != nullptr; }
    bool binary(json::binary_t&) { return fail("binary values are not JSON"); }

    bool start_object(std::size_t) { return open(json::object()); }
    bool start_array(std::size_t) { return open(json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(json::string_t& k) {
        json& obj = *stack_.back();
        if (obj.contains(k)) return fail("duplicate member name in an object");
        pending_ = &obj[k];
        return true;
    }

    bool parse_error(std::size_t position, const std::string&, const json::exception& ex) {
        // The library's message names the problem and echoes input; keep only a safe summary.
        const std::string what = ex.what();
        std::string reason = "syntax error";
        if (what.find("UTF-8") != std::string::npos ||
            what.find("surrogate") != std::string::npos) {
            reason = "invalid UTF-8 or Unicode escape";
        } else if (what.find("number overflow") != std::string::npos) {
            reason = "number out of range";
        } else if (what.find("end of input") != std::string::npos) {
            reason = "unexpected end of input";
        }
        return fail(reason + " at byte " + std::to_string(position));
    }

    json take_root() { return std::move(root_); }
    const std::string& error() const { return error_; }

  private:
    bool fail(std::string message) {
        if (error_.empty()) error_ = std::move(message);
        return false;
    }

    json* put(json&& v) {
        if (stack_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
            return &top.back();
        }
        *pending_ = std::move(v);
        return pending_;
    }

    bool open(json&& container) {
        if (stack_.size() >= max_depth_) {
            return fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
        }
        json* slot = put(std::move(container));
        stack_.push_back(slot);
        return true;
    }

    bool close() {
        stack_.pop_back();
        return true;
    }

    std::size_t max_depth_;
    json root_;
    std::vector<json*> stack_;
    json* pending_ = nullptr;
    std::string error_;
};

}  // namespace

Expected<nlohmann::json, std::string> parse_strict_json(std::string_view text,
                                                        std::size_t max_depth) {
    StrictDomBuilder builder(max_depth);
    bool ok = false;
    try {
        ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                             /*strict=*/true);
    } catch (const std::exception&) {
        // The handler never throws; this guards against allocation failure on hostile input.
        ok = false;
    }
    if (!ok) {
        return unexpected(builder.error().empty() ? std::string("syntax error") : builder.error());
    }
    return builder.take_root();
}

std::string dump_json(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dump_json(const nlohmann::ordered_json& value) {
    return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ordinal
