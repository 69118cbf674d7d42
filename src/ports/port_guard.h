#pragma once
// The port boundary of an adapter: runs adapter code and turns every exception into a
// StoreError value, so nothing thrown inside an adapter crosses a port. `origin` ("sqlite",
// "postgres", ...) prefixes the log message.
#include <exception>
#include <new>
#include <string>
#include <type_traits>

#include "domain/expected.h"
#include "ports/store_error.h"
#include "ports/write_transaction.h"

namespace ordinal {

template <class F>
auto guard_port(const char* origin, F&& body) noexcept
    -> Expected<std::invoke_result_t<F>, StoreError> {
    using T = std::invoke_result_t<F>;
    try {
        if constexpr (std::is_void_v<T>) {
            body();
            return {};
        } else {
            return body();
        }
    } catch (const StoreFailure& f) {
        return unexpected(f.error);
    } catch (const std::bad_alloc&) {
        return unexpected(
            StoreError{StoreError::Kind::Unavailable, std::string(origin) + ": out of memory"});
    } catch (const std::exception& e) {
        return unexpected(
            StoreError{StoreError::Kind::Internal, std::string(origin) + ": " + e.what()});
    } catch (...) {
        return unexpected(
            StoreError{StoreError::Kind::Internal, std::string(origin) + ": unknown exception"});
    }
}

}  // namespace ordinal
