// PUT /v1/products/{sku}, POST /v1/orders, POST /v1/orders/{id}/pay|ship|cancel.
#include <exception>
#include <memory>

#include "adapters/http/answer_deadlines.h"
#include "adapters/http/error_mapping.h"
#include "adapters/http/header_values.h"
#include "adapters/http/request_handler.h"
#include "codec/trace_context.h"
#include "domain/uuid.h"

namespace ordinal {
namespace {

bool all_whitespace(std::string_view s) {
    for (char c : s) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
}

// What the command's log line says, filled in as the request goes.
struct CommandLine {
    const char* command = "";
    std::string order_id;  // the target of an order command, or the id place_order assigned
    std::string outcome;   // outcome_label() once the command service answered
};

}  // namespace

void RequestHandler::handle_command(CommandKind kind, std::string target, HttpRequest& request,
                                    const Respond& respond_untraced) {
    const bool on_order = kind == CommandKind::PayOrder || kind == CommandKind::ShipOrder ||
                          kind == CommandKind::CancelOrder;
    // Every answer names the trace this command is part of (the caller's, or the one minted
    // here), so a client that sent none can still find the command in the logs.
    const TraceContext trace = continue_trace(request.traceparent, request.tracestate);
    auto line = std::make_shared<CommandLine>();
    line->command = command_kind_name(kind);
    if (on_order) line->order_id = target;
    const Respond respond = [this, respond_untraced, trace, line, kind, target](HttpAnswer answer) {
        answer.headers.emplace_back("traceparent", trace.traceparent);
        // A product PUT is the one admin action that is a command: the audit log keeps it with
        // its answer, off this thread (the store write may block) and best effort (the command
        // stands whether or not its entry is written).
        if (kind == CommandKind::UpsertProduct && answer.status < 300 && api_.admin) {
            AuditEntry entry;
            entry.action = "product_upsert";
            entry.target = "product/" + target;
            entry.outcome = "done";
            entry.result = answer.body;
            run_blocking_(
                [desk = api_.admin, entry = std::move(entry)] { (void)desk->record(entry); });
        }
        if (api_.command_log) {
            LogRecord record;
            record.message = std::string("command ") + line->command + " answered " +
                             std::to_string(answer.status) +
                             (line->outcome.empty() ? std::string() : " " + line->outcome);
            record.trace_id = std::string(trace.trace_id());
            record.order_id = line->order_id;
            api_.command_log(record);
        }
        respond_untraced(std::move(answer));
    };
    // An order id that is not a UUID cannot name an order: 404, like any unknown resource.
    if (on_order && !canonical_uuid(target)) return respond(not_found("no such order"));
    if (!api_.commands) {
        return respond(
            store_unavailable(StoreError{StoreError::Kind::Unavailable, "no command service"}));
    }
    // A body needs a JSON media type; an empty body (e.g. ship with the key in the header) needs
    // none.
    const bool declared_json = request.content_type && is_json_media_type(*request.content_type);
    if ((request.content_type && !declared_json) ||
        (!request.content_type && !all_whitespace(request.body))) {
        return respond(
            error_answer(415, "unsupported_media_type", "command bodies must be application/json"));
    }

    CommandInput input;
    input.kind = kind;
    input.target = target;
    input.body = request.body;
    if (request.idempotency_key) input.idempotency_key_header = *request.idempotency_key;
    auto read = read_command(input);
    const bool place_order = kind == CommandKind::PlaceOrder;
    if (!read) return answer_rejection(std::move(read.error()), place_order, respond);

    auto command = std::make_shared<CommandRequest>(std::move(*read));
    command->trace = trace;
    // Answered by the store's outcome or, if that takes longer, by the deadline.
    auto slot = std::make_shared<AnswerSlot>(respond);
    if (deadlines_) {
        deadlines_->add(command_deadline_, [slot = std::weak_ptr<AnswerSlot>(slot),
                                            ms = command_deadline_.count()] {
            if (auto s = slot.lock()) {
                s->answer(store_unavailable(StoreError{
                    StoreError::Kind::Timeout, "the write store gave a command no outcome within " +
                                                   std::to_string(ms) + " ms"}));
            }
        });
    }
    WriteStore::Done answer = [respond = [slot](HttpAnswer a) { slot->answer(std::move(a)); },
                               place_order, line](CommandOutcome outcome) {
        line->outcome = outcome_label(outcome);
        // The order a place_order made (or, repeated, the one its key made): the command
        // service draws its id.
        if (const auto* ack = std::get_if<Acknowledgement>(&outcome);
            ack && ack->stream.type == StreamType::Order)
            line->order_id = ack->stream.id;
        try {
            respond(answer_for_outcome(outcome, place_order));
        } catch (const std::exception&) {
            respond(internal_error());
        }
    };
    auto execute = [this, command, answer = std::move(answer), respond] {
        try {
            api_.commands->execute(std::move(*command), answer);
        } catch (const std::exception&) {
            respond(internal_error());  // a no-op if the outcome already answered
        }
    };
    // Off the I/O thread when the idempotency cache may block (Redis: up to --cache-timeout-ms).
    // Otherwise right here: execute() only looks the key up in memory and queues the command for
    // the write store, and a hand-off to the pool would cost a thread wake-up per command (and,
    // on a busy machine, a wait for that thread to be scheduled).
    if (api_.commands->execute_may_block()) return run_blocking_(std::move(execute));
    execute();
}

void RequestHandler::answer_rejection(CommandRejection rejection, bool place_order,
                                      const Respond& respond) {
    if (!rejection.idempotency_key || !rejection.fingerprint) {
        return respond(
            validation_failed(std::move(rejection.message), std::move(rejection.details)));
    }
    // The key is checked before the fields: if it was already used, that answer wins over the 400
    // (KeyReused in practice, since an accepted payload had valid fields). Off the I/O thread:
    // this may read the write store.
    auto shared = std::make_shared<CommandRejection>(std::move(rejection));
    blocking(respond, [this, shared, place_order]() -> HttpAnswer {
        auto used =
            api_.commands->answer_for_used_key(*shared->idempotency_key, *shared->fingerprint);
        // If the store cannot tell, the request is still invalid: answer what is certain.
        if (used && *used) return answer_for_outcome(**used, place_order);
        return validation_failed(std::move(shared->message), std::move(shared->details));
    });
}

}  // namespace ordinal
