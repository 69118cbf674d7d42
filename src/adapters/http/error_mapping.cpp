#include "adapters/http/error_mapping.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <variant>

#include "domain/thread_annotations.h"

namespace ordinal {
namespace {

std::mutex log_mu;
std::function<void(const std::string&)> failure_log GUARDED_BY(log_mu);
std::chrono::steady_clock::time_point last_logged GUARDED_BY(log_mu);
std::uint64_t left_out GUARDED_BY(log_mu) = 0;

void log_store_failure(const StoreError& error) {
    if (error.kind == StoreError::Kind::Overloaded) return;  // shedding load is not a failure
    std::lock_guard lock(log_mu);
    if (!failure_log) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_logged < std::chrono::seconds(1)) {
        ++left_out;
        return;
    }
    last_logged = now;
    std::string line = "store failure behind a 503: " + error.message;
    if (left_out > 0) line += " (" + std::to_string(left_out) + " more since the last line)";
    left_out = 0;
    failure_log(line);
}

}  // namespace

void set_store_failure_log(std::function<void(const std::string&)> log) {
    std::lock_guard lock(log_mu);
    failure_log = std::move(log);
}

// Every 503 says when to come back (DESIGN.md; issue 12): built here, the one place every answer
// with a body starts, rather than by each caller that happens to answer 503.
HttpAnswer json_answer(unsigned status, std::string body) {
    HttpAnswer a;
    a.status = status;
    a.body = std::move(body);
    if (status == 503) a.headers.emplace_back("Retry-After", kRetryAfterSeconds);
    return a;
}

HttpAnswer error_answer(unsigned status, const ErrorBody& body) {
    return json_answer(status, write_error_json(body));
}

HttpAnswer error_answer(unsigned status, std::string code, std::string message) {
    ErrorBody body;
    body.error = std::move(code);
    body.message = std::move(message);
    return error_answer(status, body);
}

HttpAnswer validation_failed(std::string message, std::vector<FieldError> details) {
    ErrorBody body;
    body.error = "validation_failed";
    body.message = std::move(message);
    body.details = std::move(details);
    return error_answer(400, body);
}

HttpAnswer not_found(std::string message) {
    return error_answer(404, "not_found", std::move(message));
}

HttpAnswer store_unavailable(const StoreError& error) {
    log_store_failure(error);
    return error.kind == StoreError::Kind::Overloaded
               ? error_answer(503, "overloaded", "the service is shedding load; retry later")
               : error_answer(503, "unavailable",
                              "the service is temporarily unavailable; retry later");
}

HttpAnswer internal_error() {
    return error_answer(500, "internal", "the request could not be processed");
}

HttpAnswer consistency_timeout() {
    return error_answer(503, "consistency_timeout",
                        "the read model has not reached the consistency token yet; retry later");
}

HttpAnswer answer_for_domain_error(const DomainError& e) {
    ErrorBody body;
    body.message = e.message;
    body.error = error_code_name(e.code);
    unsigned status = 422;
    switch (e.code) {
        case DomainError::Code::NotFound:
            status = 404;
            break;
        case DomainError::Code::VersionConflict:
            status = 409;
            body.current_version = e.current_version;
            break;
        case DomainError::Code::UnknownSku:
        case DomainError::Code::InsufficientStock:
        case DomainError::Code::CurrencyMismatch:
            body.sku = e.sku;
            break;
        case DomainError::Code::AmountMismatch:
            break;
        case DomainError::Code::InvalidTransition:
            body.from = e.from;
            body.to = e.to;
            break;
        case DomainError::Code::TotalOverflow:
            status = 400;
            body.details.push_back(FieldError{
                "items", e.message.empty() ? "the order total does not fit a signed 64-bit integer"
                                           : e.message});
            break;
    }
    if (body.message.empty()) body.message = body.error;
    return error_answer(status, body);
}

HttpAnswer answer_for_outcome(const CommandOutcome& outcome, bool place_order) {
    if (const auto* ack = std::get_if<Acknowledgement>(&outcome)) {
        HttpAnswer a = json_answer(ack->duplicate ? 200 : 202, write_acknowledgement_json(*ack));
        a.headers.emplace_back("X-Consistency-Token", ack->consistency_token);
        if (place_order) a.headers.emplace_back("Location", "/v1/orders/" + ack->stream.id);
        return a;
    }
    if (const auto* err = std::get_if<DomainError>(&outcome)) return answer_for_domain_error(*err);
    if (std::holds_alternative<KeyReused>(outcome)) {
        return error_answer(409, "idempotency_key_reused",
                            "this idempotency key was already used with a different payload");
    }
    return store_unavailable(std::get<StoreError>(outcome));
}

}  // namespace ordinal
