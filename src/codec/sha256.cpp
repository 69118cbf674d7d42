#include "codec/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace ordinal {

// OpenSSL's libcrypto (already on every machine through libpq) rather than a hand-written
// compression function: one well-kept implementation, with CPU acceleration where there is one.
std::array<std::uint8_t, 32> sha256(std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != out.size()) {
        // Only without memory or with a broken libcrypto: nothing a caller could handle.
        throw std::runtime_error("sha256: libcrypto failed");
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto digest = sha256(data);
    std::string out;
    out.reserve(64);
    for (std::uint8_t b : digest) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xF]);
    }
    return out;
}

}  // namespace ordinal
