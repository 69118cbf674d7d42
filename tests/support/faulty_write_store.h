#pragma once
// Write stores that fail on purpose, for tests of what sits in front of a store (the command
// service, the HTTP layer): ScriptedWriteStore answers what it is told to (an outcome, a failed
// lookup, a throw), HangingWriteStore settles nothing until told to.
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/commands.h"
#include "domain/consistency_token.h"
#include "support/fake_stores.h"

namespace ordinal::test_support {

// Accepts every command with version 1 and keeps idempotency records, unless an outcome is
// scripted for the next submission; its lookups fail and its submit() throws on request.
class ScriptedWriteStore final : public EmptyWriteStore {
  public:
    void submit(CommandRequest request, Done done) override {
        if (!throw_on_submit.empty()) throw std::runtime_error(throw_on_submit);
        CommandOutcome outcome = answer(request);
        done(std::move(outcome));
    }
    Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string& key) override {
        std::lock_guard lock(mu_);
        if (fail_lookups) return unexpected(StoreError{StoreError::Kind::Unavailable, "down"});
        auto it = records_.find(key);
        if (it == records_.end()) return std::optional<IdempotencyRecord>{};
        return std::optional<IdempotencyRecord>{it->second};
    }

    std::optional<CommandOutcome> next;
    bool fail_lookups = false;
    std::string throw_on_submit;  // non-empty: submit() throws this
    std::vector<CommandRequest> submitted;

  private:
    CommandOutcome answer(const CommandRequest& request) {
        std::lock_guard lock(mu_);
        submitted.push_back(request);
        if (next) {
            CommandOutcome o = std::move(*next);
            next.reset();
            return o;
        }
        if (auto it = records_.find(request.idempotency_key); it != records_.end()) {
            if (it->second.fingerprint != request.fingerprint) return KeyReused{};
            Acknowledgement ack = it->second.ack;
            ack.duplicate = true;
            return ack;
        }
        Acknowledgement ack;
        ack.event_id = "0190f0a4-0000-7000-8000-00000000000" + std::to_string(records_.size());
        ack.stream = stream_of(request.command);
        ack.version = 1;
        ack.consistency_token = encode_consistency_token({{ack.stream, 1}});
        records_[request.idempotency_key] = IdempotencyRecord{
            request.idempotency_key, request.fingerprint, command_name(request.command), ack, 0};
        return ack;
    }

    std::mutex mu_;
    std::map<std::string, IdempotencyRecord> records_;
};

// A write store that takes commands and settles none until told to: a store that hangs.
class HangingWriteStore final : public EmptyWriteStore {
  public:
    void submit(CommandRequest, Done done) override {
        std::lock_guard lock(mu_);
        held_.push_back(std::move(done));
    }
    // The outcomes the store would have given at last, late.
    void settle_all() {
        std::vector<Done> held;
        {
            std::lock_guard lock(mu_);
            held.swap(held_);
        }
        for (auto& done : held) done(StoreError{StoreError::Kind::Unavailable, "late"});
    }

  private:
    std::mutex mu_;
    std::vector<Done> held_;
};

}  // namespace ordinal::test_support
