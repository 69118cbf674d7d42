#pragma once
// UUID helpers for tests: fresh random (v4) keys and ids, and shape checks for ids the server
// hands out. Thread-safe (one generator per thread).
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <thread>

namespace ordinal::test {

inline std::mt19937_64& test_rng() {
    thread_local std::mt19937_64 rng([] {
        std::random_device rd;
        const std::uint64_t t =
            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        const std::uint64_t tid = std::hash<std::thread::id>{}(std::this_thread::get_id());
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ t ^ (tid * 0x9E3779B97F4A7C15ULL);
    }());
    return rng;
}

// A random RFC 4122 version-4 UUID, lower case.
inline std::string random_uuid() {
    std::uint8_t b[16];
    for (int i = 0; i < 16; i += 8) {
        const std::uint64_t r = test_rng()();
        for (int j = 0; j < 8; ++j) b[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
    }
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[b[i] >> 4]);
        out.push_back(hex[b[i] & 15]);
    }
    return out;
}

inline std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

inline bool is_uuid(std::string_view s) {
    static const std::regex re(
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    return std::regex_match(s.begin(), s.end(), re);
}

// RFC 9562 version 7 (time-ordered) with the RFC 4122 variant.
inline bool is_uuid_v7(std::string_view s) {
    if (!is_uuid(s)) return false;
    const char variant = static_cast<char>(std::tolower(static_cast<unsigned char>(s[19])));
    return s[14] == '7' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

// A short unique-enough sku for one test ("T-" + 12 hex chars + suffix).
inline std::string unique_sku(std::string_view prefix = "SKU") {
    return std::string(prefix) + "-" + random_uuid().substr(0, 8) + random_uuid().substr(0, 4);
}

}  // namespace ordinal::test
