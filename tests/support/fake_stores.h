#pragma once
// Bases for fakes of the store ports, for tests (and fuzz targets) that care about a few methods
// only: every method answers as an empty store would, and a fake overrides what its test needs.
// A port that grows a method then changes this file, not every fake.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "ports/idempotency_cache.h"
#include "ports/read_store.h"
#include "ports/write_store.h"

namespace ordinal::test_support {

// A read model with nothing in it; writes succeed and change nothing.
class EmptyReadStore : public ReadStore {
  public:
    Expected<ProjectionResult, StoreError> apply(std::span<const Event>,
                                                 const BusPosition&) override {
        return ProjectionResult{};
    }
    Expected<ProjectionResult, StoreError> apply_delivery(const Delivery&,
                                                          std::span<const std::int64_t>) override {
        return ProjectionResult{};
    }
    Expected<std::int64_t, StoreError> claim_partition(const std::string&) override { return 0; }
    Expected<std::int64_t, StoreError> dead_letter_count() override { return 0; }
    Expected<std::vector<DeadLetter>, StoreError> list_dead_letters(
        const DeadLetterQuery&) override {
        return std::vector<DeadLetter>{};
    }
    Expected<bool, StoreError> discard_dead_letter(std::int64_t, const std::string&) override {
        return false;
    }
    Expected<DeadLetterRetry, StoreError> retry_dead_letters(std::optional<std::int64_t>) override {
        return DeadLetterRetry{};
    }
    Expected<std::optional<Order>, StoreError> get_order(const std::string&) override {
        return std::optional<Order>{};
    }
    Expected<OrderPage, StoreError> list_user_orders(const std::string&, std::size_t,
                                                     const std::optional<OrderCursor>&) override {
        return OrderPage{};
    }
    Expected<std::optional<ProductView>, StoreError> get_product(const std::string&) override {
        return std::optional<ProductView>{};
    }
    Expected<std::int64_t, StoreError> stream_version(const StreamKey&) override {
        return std::int64_t{0};
    }
    Expected<std::int64_t, StoreError> bus_position(const std::string&) override {
        return std::int64_t{0};
    }
    Expected<ProjectionStats, StoreError> stats() override { return ProjectionStats{}; }
    Expected<void, StoreError> reset() override { return {}; }
    Expected<void, StoreError> finish_rebuild() override { return {}; }
    Expected<std::optional<std::string>, StoreError> rebuild_started() override {
        return std::optional<std::string>{};
    }
    Expected<void, StoreError> check_ready() override { return {}; }
    // Admin requests and the process registry, kept in memory as a store would keep them, so
    // that an AdminDesk and AdminWorker over a fake behave as over a real store.
    Expected<std::pair<AdminRequest, bool>, StoreError> submit_admin_request(
        const std::string& kind, std::optional<std::int64_t> target, const std::string& reason,
        const std::string& requested_by) override {
        std::lock_guard lock(admin_mu_);
        for (const auto& r : requests_) {
            if (kind == "rebuild" && r.kind == kind &&
                (r.state == "queued" || r.state == "running"))
                return std::pair{r, false};
        }
        AdminRequest a;
        a.id = static_cast<std::int64_t>(requests_.size()) + 1;
        a.kind = kind;
        a.target = target;
        a.reason = reason;
        a.state = "queued";
        a.requested_by = requested_by;
        requests_.push_back(a);
        return std::pair{a, true};
    }
    Expected<std::optional<AdminRequest>, StoreError> claim_admin_request(const std::string& owner,
                                                                          std::int64_t) override {
        std::lock_guard lock(admin_mu_);
        for (auto& r : requests_) {
            if (r.state != "queued") continue;
            r.state = "running";
            r.owner = owner;
            ++r.attempts;
            return std::optional<AdminRequest>{r};
        }
        return std::optional<AdminRequest>{};
    }
    Expected<bool, StoreError> report_admin_progress(std::int64_t id, const std::string& owner,
                                                     const std::string& progress) override {
        std::lock_guard lock(admin_mu_);
        AdminRequest* r = held(id, owner);
        if (r) r->progress = progress;
        return r != nullptr;
    }
    Expected<bool, StoreError> finish_admin_request(const AdminRequest& outcome) override {
        std::lock_guard lock(admin_mu_);
        AdminRequest* r = held(outcome.id, outcome.owner);
        if (r) {
            *r = outcome;
            audit_.insert(audit_.begin(), audit_entry_of(outcome));
        }
        return r != nullptr;
    }
    Expected<std::optional<AdminRequest>, StoreError> get_admin_request(std::int64_t id) override {
        std::lock_guard lock(admin_mu_);
        if (id < 1 || id > static_cast<std::int64_t>(requests_.size()))
            return std::optional<AdminRequest>{};
        return std::optional<AdminRequest>{requests_[static_cast<std::size_t>(id - 1)]};
    }
    Expected<void, StoreError> record_audit(const AuditEntry& entry) override {
        std::lock_guard lock(admin_mu_);
        audit_.insert(audit_.begin(), entry);
        return {};
    }
    Expected<std::vector<AuditEntry>, StoreError> list_audit(std::size_t limit) override {
        std::lock_guard lock(admin_mu_);
        return std::vector<AuditEntry>(audit_.begin(),
                                       audit_.begin() + std::min(limit, audit_.size()));
    }
    Expected<void, StoreError> heartbeat(const ProcessRecord&) override { return {}; }
    Expected<std::vector<ProcessRecord>, StoreError> list_processes() override {
        return std::vector<ProcessRecord>{};
    }

  private:
    AdminRequest* held(std::int64_t id, const std::string& owner) {
        if (id < 1 || id > static_cast<std::int64_t>(requests_.size())) return nullptr;
        AdminRequest& r = requests_[static_cast<std::size_t>(id - 1)];
        return r.state == "running" && r.owner == owner ? &r : nullptr;
    }
    std::mutex admin_mu_;
    std::vector<AdminRequest> requests_;
    std::vector<AuditEntry> audit_;  // newest first
};

// A write store with no records and no events; what submit() answers is the fake's own.
class EmptyWriteStore : public WriteStore {
  public:
    Expected<std::optional<IdempotencyRecord>, StoreError> find_idempotency(
        const std::string&) override {
        return std::optional<IdempotencyRecord>{};
    }
    Expected<std::vector<StoredEvent>, StoreError> fetch_pending(std::size_t) override {
        return std::vector<StoredEvent>{};
    }
    Expected<void, StoreError> mark_published(std::span<const StoredEvent>) override { return {}; }
    Expected<std::vector<StoredEvent>, StoreError> read_log(std::int64_t, std::size_t) override {
        return std::vector<StoredEvent>{};
    }
    Expected<OutboxStats, StoreError> outbox_stats() override { return OutboxStats{}; }
    Expected<void, StoreError> check_ready() override { return {}; }
    void set_commit_listener(std::function<void()>) override {}
};

class NoCache final : public IdempotencyCache {
  public:
    std::optional<IdempotencyRecord> get(const std::string&) override { return std::nullopt; }
    void put(const IdempotencyRecord&) override {}
};

// The stream a command acts on: the product's or the order's.
inline StreamKey stream_of(const Command& command) {
    return std::visit(
        [](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, UpsertProduct>) {
                return StreamKey{StreamType::Product, c.sku};
            } else {
                return StreamKey{StreamType::Order, c.order_id};
            }
        },
        command);
}

}  // namespace ordinal::test_support
