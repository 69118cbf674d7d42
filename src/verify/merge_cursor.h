#pragma once
// The verifier reads every snapshot as a stream of rows sorted by stream id and merges them by
// key, so memory grows with the number of products, never with orders or events.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ports/audit_source.h"
#include "ports/store_error.h"

namespace ordinal::verify {

// A cursor with one row of look-ahead. The first failure is kept in the verifier's error slot and
// ends every cursor, so a failed run stops soon and reports the error.
template <class Row>
class Rows {
  public:
    Rows(std::unique_ptr<AuditCursor<Row>> cursor, std::optional<StoreError>& error)
        : cursor_(std::move(cursor)), error_(error) {}

    const Row* peek() {
        if (!loaded_ && !error_) {
            auto row = cursor_->next();
            if (row) {
                head_ = std::move(*row);
            } else {
                error_ = row.error();
            }
            loaded_ = true;
        }
        return error_ || !head_ ? nullptr : &*head_;
    }

    Row take() {
        peek();
        Row row = std::move(*head_);
        head_.reset();
        loaded_ = false;
        return row;
    }

  private:
    std::unique_ptr<AuditCursor<Row>> cursor_;
    std::optional<StoreError>& error_;
    std::optional<Row> head_;
    bool loaded_ = false;
};

inline const std::string& key_of(const AuditedEvent& e) {
    return e.event.stream.id;
}
inline const std::string& key_of(const Order& o) {
    return o.id;
}
inline const std::string& key_of(const Product& p) {
    return p.sku;
}
inline const std::string& key_of(const ProductViewRow& p) {
    return p.view.sku;
}

// The smallest key at the head of any of `rows`; nullopt once all are exhausted.
template <class... R>
std::optional<std::string> next_key(Rows<R>&... rows) {
    std::optional<std::string> key;
    auto consider = [&key](const auto* row) {
        if (row && (!key || key_of(*row) < *key)) key = key_of(*row);
    };
    (consider(rows.peek()), ...);
    return key;
}

template <class Row>
std::optional<Row> take_if(Rows<Row>& rows, const std::string& key) {
    const Row* head = rows.peek();
    if (!head || key_of(*head) != key) return std::nullopt;
    return rows.take();
}

}  // namespace ordinal::verify
