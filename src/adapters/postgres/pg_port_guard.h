#pragma once
// The port boundary of this folder: runs adapter code and turns every exception into a
// StoreError value, so nothing thrown here crosses a port.
#include <exception>
#include <new>
#include <type_traits>

#include "domain/expected.h"
#include "ports/store_error.h"
#include "ports/write_transaction.h"

namespace ordinal::pg {

template <class F>
auto guard_port(F&& body) noexcept -> Expected<std::invoke_result_t<F>, StoreError> {
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
        return unexpected(StoreError{StoreError::Kind::Unavailable, "postgres: out of memory"});
    } catch (const std::exception& e) {
        return unexpected(StoreError{StoreError::Kind::Internal, std::string("postgres: ") + e.what()});
    } catch (...) {
        return unexpected(StoreError{StoreError::Kind::Internal, "postgres: unknown exception"});
    }
}

}  // namespace ordinal::pg
