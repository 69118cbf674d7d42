#pragma once
// Routes a request to its endpoint and produces the answer, with no knowledge of sockets: the
// session (http_session.cpp) feeds it parsed requests, tests can call it directly.
//
// Checks, in order: path (404) -> method (405 + Allow) -> admin token (401) -> endpoint.
// Command endpoints then check Content-Type (415), then the body, key and fields via
// codec/command_json.h, looking up a used key before answering 400 (a repeat wins over a 400).
// Query endpoints check the path parameter (404 when it cannot name a resource), the
// consistency headers and paging parameters (400), wait on the consistency gate when a token is
// given, and only then read the read store.
//
// Thread-safety: handle() may be called concurrently. Blocking work (store reads, idempotency
// look-ups in a cache that may block, rebuild, dead letters) goes to the injected BlockingRunner;
// a command whose cache never blocks is queued for the write store from the calling thread.
// Readiness, metrics and the admin status go to a runner of their own (the ops runner), so that
// commands and queries stuck on a store never hold up the answers that say so. The handler must
// outlive every request it was given until that request was answered.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/http/answer_deadlines.h"
#include "adapters/http/http_types.h"
#include "adapters/http/route_table.h"
#include "codec/command_json.h"
#include "domain/consistency_token.h"
#include "ports/service_api.h"

namespace ordinal {

// Runs `job` on a thread where blocking is fine (never an I/O thread).
using BlockingRunner = std::function<void(std::function<void()> job)>;

class RequestHandler {
  public:
    // `openapi_document`: the body of GET /openapi.json (empty: 404). `run_ops`: the ops runner
    // (none: the blocking runner).
    RequestHandler(ServiceApi api, BlockingRunner run_blocking, std::string_view openapi_document,
                   BlockingRunner run_ops = {});

    // Calls `respond` exactly once, on this thread or another one.
    void handle(HttpRequest request, Respond respond);

    // From now on a command the write store has not settled within `deadline` is answered 503
    // unavailable (answer_deadlines.h). Call before serving.
    void set_command_deadline(std::chrono::milliseconds deadline);

  private:
    void dispatch(const RouteMatch& route, std::string_view query, HttpRequest& request,
                  const Respond& respond);

    // Runs `work` on the blocking runner and responds with its answer (500 if it throws).
    void blocking(const Respond& respond, std::function<HttpAnswer()> work);
    // The same on the ops runner: for work bounded in time however the stores fare.
    void ops(const Respond& respond, std::function<HttpAnswer()> work);

    // command_endpoints.cpp
    void handle_command(CommandKind kind, std::string target, HttpRequest& request,
                        const Respond& respond);
    void answer_rejection(CommandRejection rejection, bool place_order, const Respond& respond);

    // query_endpoints.cpp
    void handle_query(const RouteMatch& route, std::string_view query, const HttpRequest& request,
                      const Respond& respond);
    void read_when_consistent(const VersionVector& wanted, std::chrono::milliseconds wait,
                              std::function<HttpAnswer()> read, const Respond& respond);
    // 503 consistency_timeout, counted: the projection kept a reader waiting past its bound.
    HttpAnswer consistency_timed_out();

    // ops_endpoints.cpp
    void handle_readyz(const Respond& respond);
    void handle_metrics(const Respond& respond);
    void handle_openapi(const Respond& respond);
    void handle_admin_status(const Respond& respond);
    void handle_rebuild(std::string_view query, const Respond& respond);
    void handle_dead_letters(std::string_view query, const Respond& respond);
    void handle_dead_letter_retry(const RouteMatch& route, std::string_view query,
                                  const Respond& respond);
    void handle_dead_letter_discard(const RouteMatch& route, std::string_view query,
                                    const HttpRequest& request, const Respond& respond);
    void handle_audit(std::string_view query, const Respond& respond);
    void handle_admin_request(const RouteMatch& route, const Respond& respond);
    void submit_admin(const char* kind, std::optional<std::int64_t> target, std::string reason,
                      std::string_view query, const Respond& respond);

    // console_endpoints.cpp
    void handle_console(const RouteMatch& route, const Respond& respond);
    void handle_admin_stream(const RouteMatch& route, const Respond& respond);
    void handle_token_check(std::string_view query, const Respond& respond);

    ServiceApi api_;
    std::unique_ptr<AnswerDeadlines> deadlines_;  // none: commands wait for their outcome
    std::chrono::milliseconds command_deadline_{0};
    BlockingRunner run_blocking_;
    BlockingRunner run_ops_;
    std::string_view openapi_document_;
    Counter* consistency_timeouts_ = nullptr;  // null without metrics
};

}  // namespace ordinal
