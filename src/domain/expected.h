#pragma once
// A small value-or-error type: GCC 12 offers std::expected only with -std=c++23, and the
// project targets C++20. Expected failures (conflicts, not found, store down) travel as values.
#include <cassert>
#include <utility>
#include <variant>

namespace ordinal {

template <class E>
struct Unexpected {
    E error;
};
template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
    return {std::forward<E>(e)};
}

template <class T, class E>
class Expected {
  public:
    Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Expected(Unexpected<E> u) : v_(std::in_place_index<1>, std::move(u.error)) {}
    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const E& error() const {
        assert(!has_value());
        return std::get<1>(v_);
    }
    E& error() {
        assert(!has_value());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, E> v_;
};

template <class E>
class Expected<void, E> {
  public:
    Expected() = default;
    Expected(Unexpected<E> u) : err_(std::move(u.error)), ok_(false) {}
    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const E& error() const {
        assert(!ok_);
        return err_;
    }

  private:
    E err_{};
    bool ok_ = true;
};

}  // namespace ordinal
