#pragma once
// gtest predicates for the response shapes docs/design.md promises. Each returns an
// AssertionResult that carries the whole response on failure.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "support/http_client.h"
#include "support/test_uuid.h"

namespace ordinal::test {

// `{"error": code, "message": "<text>", ...}` with the given status.
inline ::testing::AssertionResult IsError(const HttpResponse& r, int status,
                                          std::string_view code) {
    if (r.status != status) {
        return ::testing::AssertionFailure()
               << "expected " << status << " " << code << ", got " << r.describe();
    }
    if (!r.is_json())
        return ::testing::AssertionFailure() << "error body is not JSON: " << r.describe();
    const json b = json::parse(r.body);
    if (!b.is_object() || !b.contains("error") || !b["error"].is_string()) {
        return ::testing::AssertionFailure()
               << "error body has no string 'error': " << r.describe();
    }
    if (!code.empty() && b["error"].get<std::string>() != code) {
        return ::testing::AssertionFailure()
               << "expected error '" << code << "', got " << r.describe();
    }
    if (!b.contains("message") || !b["message"].is_string()) {
        return ::testing::AssertionFailure()
               << "error body has no string 'message': " << r.describe();
    }
    return ::testing::AssertionSuccess();
}

// Any error status with a well-formed error body (code not checked).
inline ::testing::AssertionResult IsErrorStatus(const HttpResponse& r, int status) {
    return IsError(r, status, "");
}

// 400 validation_failed with details [{field, message}]; if `field_part` is given, some
// detail's field contains it (field naming such as "items[0].qty" is left to the server).
inline ::testing::AssertionResult IsValidationError(const HttpResponse& r,
                                                    std::string_view field_part = {}) {
    auto base = IsError(r, 400, "validation_failed");
    if (!base) return base;
    const json b = json::parse(r.body);
    if (!b.contains("details") || !b["details"].is_array() || b["details"].empty()) {
        return ::testing::AssertionFailure()
               << "validation_failed without a non-empty 'details' array: " << r.describe();
    }
    bool found = field_part.empty();
    for (const auto& d : b["details"]) {
        if (!d.is_object() || !d.contains("field") || !d["field"].is_string() ||
            !d.contains("message") || !d["message"].is_string()) {
            return ::testing::AssertionFailure()
                   << "a detail is not {field, message} strings: " << r.describe();
        }
        if (!found && d["field"].get<std::string>().find(field_part) != std::string::npos)
            found = true;
    }
    if (!found)
        return ::testing::AssertionFailure()
               << "no detail names field '" << field_part << "': " << r.describe();
    return ::testing::AssertionSuccess();
}

// A command acknowledgement: status code, "status" accepted|duplicate, eventId (UUIDv7),
// streamId, version >= 1, consistencyToken equal to the X-Consistency-Token header, and
// nothing else (acknowledgements carry no read-model data).
inline ::testing::AssertionResult IsAck(const HttpResponse& r, int status, std::string_view kind) {
    if (r.status != status) {
        return ::testing::AssertionFailure()
               << "expected " << status << " " << kind << ", got " << r.describe();
    }
    if (!r.is_json())
        return ::testing::AssertionFailure() << "ack body is not JSON: " << r.describe();
    const json b = json::parse(r.body);
    if (!b.is_object())
        return ::testing::AssertionFailure() << "ack is not an object: " << r.describe();
    static const std::set<std::string> allowed = {"status",  "eventId", "streamId",
                                                  "orderId", "version", "consistencyToken"};
    for (const auto& [k, _] : b.items()) {
        if (!allowed.count(k)) {
            return ::testing::AssertionFailure()
                   << "ack carries field '" << k << "' beyond the contract: " << r.describe();
        }
    }
    if (!b.contains("status") || b["status"] != std::string(kind)) {
        return ::testing::AssertionFailure()
               << "ack status is not '" << kind << "': " << r.describe();
    }
    if (!b.contains("eventId") || !b["eventId"].is_string() ||
        !is_uuid_v7(b["eventId"].get<std::string>())) {
        return ::testing::AssertionFailure() << "eventId is not a UUIDv7: " << r.describe();
    }
    if (!b.contains("streamId") || !b["streamId"].is_string() ||
        b["streamId"].get<std::string>().empty()) {
        return ::testing::AssertionFailure() << "no streamId: " << r.describe();
    }
    if (!b.contains("version") || !b["version"].is_number_integer() ||
        b["version"].get<std::int64_t>() < 1) {
        return ::testing::AssertionFailure() << "version is not an integer >= 1: " << r.describe();
    }
    if (!b.contains("consistencyToken") || !b["consistencyToken"].is_string() ||
        b["consistencyToken"].get<std::string>().empty()) {
        return ::testing::AssertionFailure() << "no consistencyToken: " << r.describe();
    }
    const auto header = r.header("X-Consistency-Token");
    if (!header || *header != b["consistencyToken"].get<std::string>()) {
        return ::testing::AssertionFailure()
               << "X-Consistency-Token header differs from the body's token: " << r.describe();
    }
    if (b.contains("orderId") &&
        (!b["orderId"].is_string() || !is_uuid(b["orderId"].get<std::string>()))) {
        return ::testing::AssertionFailure() << "orderId is not a UUID: " << r.describe();
    }
    return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult IsAccepted(const HttpResponse& r) {
    return IsAck(r, 202, "accepted");
}
inline ::testing::AssertionResult IsDuplicate(const HttpResponse& r) {
    return IsAck(r, 200, "duplicate");
}

// RFC 3339 UTC with milliseconds, e.g. 2024-05-01T12:34:56.789Z.
inline bool is_rfc3339_utc_ms(const json& v) {
    if (!v.is_string()) return false;
    static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
    return std::regex_match(v.get<std::string>(), re);
}

}  // namespace ordinal::test
