#include "adapters/memory/lru_idempotency_cache.h"

#include <list>
#include <mutex>
#include <unordered_map>

#include "domain/thread_annotations.h"

namespace ordinal {
namespace {

class LruIdempotencyCache final : public IdempotencyCache {
  public:
    explicit LruIdempotencyCache(std::size_t capacity) : capacity_(capacity) {}

    bool may_block() const override { return false; }  // a map under a mutex held briefly

    std::optional<IdempotencyRecord> get(const std::string& key) override {
        std::lock_guard lock(mu_);
        auto it = index_.find(key);
        if (it == index_.end()) return std::nullopt;
        order_.splice(order_.begin(), order_, it->second);
        return *it->second;
    }

    void put(const IdempotencyRecord& record) override {
        if (capacity_ == 0) return;
        std::lock_guard lock(mu_);
        auto it = index_.find(record.key);
        if (it != index_.end()) {
            *it->second = record;
            order_.splice(order_.begin(), order_, it->second);
            return;
        }
        order_.push_front(record);
        index_.emplace(record.key, order_.begin());
        if (order_.size() > capacity_) {
            index_.erase(order_.back().key);
            order_.pop_back();
        }
    }

  private:
    const std::size_t capacity_;
    std::mutex mu_;
    std::list<IdempotencyRecord> order_ GUARDED_BY(mu_);  // most recent first
    std::unordered_map<std::string, std::list<IdempotencyRecord>::iterator> index_ GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<IdempotencyCache> make_lru_idempotency_cache(std::size_t capacity) {
    return std::make_unique<LruIdempotencyCache>(capacity);
}

}  // namespace ordinal
