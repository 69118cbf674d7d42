#include "ports/metrics.h"

#include <charconv>
#include <cmath>

namespace ordinal {
namespace {

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::string render_labels(const Labels& labels, const std::string& extra = {}) {
    std::string out;
    for (const auto& [k, v] : labels) {
        out += out.empty() ? "{" : ",";
        out += k + "=\"" + escape_label(v) + "\"";
    }
    if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
    if (!out.empty()) out += "}";
    return out;
}

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that round-trips
    return std::string(buf, res.ptr);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds_.size() && seconds > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9),
                      std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        acc += counts_[i].load(std::memory_order_relaxed);
        out[i] = acc;
    }
    return out;
}

double Histogram::quantile(double q) const {
    const auto cum = cumulative_counts();
    const std::uint64_t total = cum.back();
    if (total == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (cum[i] >= target) return bounds_[i];
    }
    return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> lag_buckets() {
    return {0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
            0.1,   0.15,  0.25,  0.5,  1,     2.5,  5,    10};
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& type,
                                                 const std::string& help) {
    auto& f = families_[name];
    if (f.type.empty()) {
        f.type = type;
        f.help = help;
    }
    return f;
}

void MetricsRegistry::describe_gauge(const std::string& name, const std::string& help) {
    std::lock_guard lock(mu_);
    family(name, "gauge", help);
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, "counter", help).counters[render_labels(labels)];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const Labels& labels) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, "gauge", help).gauges[render_labels(labels)];
    if (!slot) slot = std::make_unique<Gauge>();
    return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const Labels& labels, std::vector<double> bounds) {
    std::lock_guard lock(mu_);
    auto& slot = family(name, "histogram", help).histograms[render_labels(labels)];
    if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
    return *slot;
}

void MetricsRegistry::on_collect(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    hooks_.push_back(std::move(hook));
}

std::string MetricsRegistry::render_prometheus() {
    std::vector<std::function<void()>> hooks;
    {
        std::lock_guard lock(mu_);
        hooks = hooks_;
    }
    for (auto& h : hooks) h();
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
        for (const auto& [labels, c] : f.counters)
            out += name + labels + " " + std::to_string(c->value()) + "\n";
        for (const auto& [labels, g] : f.gauges)
            out += name + labels + " " + number(g->value()) + "\n";
        for (const auto& [labels, h] : f.histograms) {
            // Re-split the rendered labels so "le" can be appended inside the braces.
            const std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2);
            const auto cum = h->cumulative_counts();
            for (std::size_t i = 0; i <= h->bounds().size(); ++i) {
                const std::string le =
                    "le=\"" +
                    (i < h->bounds().size() ? number(h->bounds()[i]) : std::string("+Inf")) + "\"";
                out += name + "_bucket{" + (inner.empty() ? le : inner + "," + le) + "} " +
                       std::to_string(cum[i]) + "\n";
            }
            out += name + "_sum" + labels + " " + number(h->sum()) + "\n";
            out += name + "_count" + labels + " " + std::to_string(h->count()) + "\n";
        }
    }
    return out;
}

}  // namespace ordinal
