#pragma once
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kafka/kafka_bus.h"
#include "adapters/kafka/kafka_config.h"
#include "domain/thread_annotations.h"
#include "ports/bus.h"
#include "ports/metrics.h"

namespace ordinal::kafka {

// The projector's side of the bus: a consumer-group member that never commits offsets as its
// source of truth. On every partition assignment it claims the partition in the read store (a new
// owner epoch, which fences off a projector that lost it) and seeks to the position the read
// store holds (written in the same transaction as the projected rows), so a rebalance or a crash
// neither loses nor double-applies anything. Offsets are also committed to Kafka, asynchronously
// and only for monitoring tools (consumer-group lag).
class Consumer {
  public:
    static Expected<std::unique_ptr<Consumer>, std::string> create(const KafkaAddress& address,
                                                                   Context* context,
                                                                   MetricsRegistry* metrics,
                                                                   std::size_t max_batch);
    ~Consumer();  // leaves the group

    void start(EventConsumer* sink);
    std::vector<std::string> assigned();
    // Each held partition by name: the next offset to apply and its end as the last fetch
    // response gave it; callable from any thread, also while the loop is stuck in a delivery.
    std::map<std::string, HeldPartition> held();
    // True once the group has handed this member its partitions (perhaps none, in a group with
    // more members than partitions) and each was sought to its stored position; false again
    // from a revocation until the next assignment.
    bool holds_assignment();
    Expected<void, BusError> check_ready();

  private:
    Consumer(KafkaAddress address, Context* context, MetricsRegistry* metrics,
             std::size_t max_batch);
    static void rebalance_callback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* parts, void* opaque);
    void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
    void loop();
    // Hands one poll's runs of messages, per partition, to the projector at once; false if they
    // must be read again.
    bool deliver(const std::map<std::int32_t, std::vector<rd_kafka_message_t*>>& by_partition);
    void seek(std::int32_t partition, std::int64_t offset);
    // Commits the positions applied since the last commit to Kafka, asynchronously: if `now`, or
    // at most once a second otherwise. The loop thread's (rebalances run on it too).
    void commit_to_kafka(bool now);
    // ordinal_kafka_consumer_lag per held partition: the partition's end (the high watermark of
    // the last fetch response, no request of its own) minus the position applied. At most once a
    // second, from the loop: a projector that keeps failing shows a growing lag, not a stale one.
    void update_lag();
    Gauge& lag_gauge(std::int32_t partition);

    KafkaAddress address_;
    Context* context_;
    std::size_t max_batch_;
    Handle handle_;
    EventConsumer* sink_ = nullptr;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::mutex assigned_mu_;
    std::set<std::int32_t> assigned_ GUARDED_BY(assigned_mu_);
    bool holds_assignment_ GUARDED_BY(assigned_mu_) = false;
    Counter* consumed_ = nullptr;
    Counter* redelivered_ = nullptr;
    Counter* rebalances_ = nullptr;
    Counter* errors_ = nullptr;
    Gauge* partitions_ = nullptr;
    MetricsRegistry* metrics_ = nullptr;
    // The next offset to apply per held partition (the stored position at assignment, then each
    // delivery's end).
    std::map<std::int32_t, std::int64_t> applied_ GUARDED_BY(assigned_mu_);
    // The owner epoch claimed for each held partition (ReadStore::claim_partition), carried by
    // its deliveries; the loop thread's, as lag_.
    std::map<std::int32_t, std::int64_t> epochs_;
    std::map<std::int32_t, Gauge*> lag_;  // the loop thread's (rebalances run on it too)
    std::chrono::steady_clock::time_point lag_updated_{};
    // Applied and not yet committed to Kafka: the next offset per partition (the loop thread's).
    std::map<std::int32_t, std::int64_t> uncommitted_;
    std::chrono::steady_clock::time_point committed_at_{};
};

}  // namespace ordinal::kafka
