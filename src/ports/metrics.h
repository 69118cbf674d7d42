#pragma once
// A small Prometheus-style metrics registry: counters, gauges and histograms with fixed label
// sets, rendered in the text exposition format. Counters and histograms are lock-free to update;
// creating a series takes the registry lock once (callers keep the returned reference).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domain/thread_annotations.h"

namespace ordinal {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
  public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
  public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// Buckets are upper bounds in seconds.
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double seconds);
    std::vector<std::uint64_t> cumulative_counts() const;  // one per bound, then +Inf
    double sum() const {
        return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    }
    std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
    const std::vector<double>& bounds() const { return bounds_; }
    double quantile(double q) const;  // estimated from the buckets (upper bound of the bucket)

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<std::uint64_t> sum_ns_{0};
    std::atomic<std::uint64_t> count_{0};
};

std::vector<double> latency_buckets();  // 100 µs .. 10 s
// For how long an event takes to become visible, 1 ms .. 10 s: finer around the 20 ms the lag is
// aimed at (latency_buckets jump from 10 to 25 ms).
std::vector<double> lag_buckets();

class MetricsRegistry {
  public:
    Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
    Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
    Histogram& histogram(const std::string& name, const std::string& help,
                         const Labels& labels = {}, std::vector<double> bounds = latency_buckets());
    // A gauge family with no series yet: rendered (HELP and TYPE) from now on, so that what
    // alerts name is exported from the first scrape, before its first labelled series exists.
    void describe_gauge(const std::string& name, const std::string& help);
    // Runs before every render, to refresh gauges computed on demand (e.g. outbox depth).
    void on_collect(std::function<void()> hook);
    std::string render_prometheus();

  private:
    struct Family {
        std::string type;
        std::string help;
        std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered labels
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& family(const std::string& name, const std::string& type, const std::string& help);

    std::mutex mu_;
    std::map<std::string, Family> families_ GUARDED_BY(mu_);
    std::vector<std::function<void()>> hooks_ GUARDED_BY(mu_);
};

}  // namespace ordinal
