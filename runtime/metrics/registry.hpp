#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/metrics/text_writer.hpp"

/// A registry of counters, gauges and histograms with label sets, rendered in
/// Prometheus's text format. Pure (no sockets, no clocks).
///
/// Cheap to update: an instrument is found once (`family::with`, which takes
/// the family's mutex) and kept by reference; after that an update is one or
/// a few relaxed atomic operations, no lock. Instruments live as long as the
/// registry. Label cardinality is bounded per family: past `max_series`
/// label sets, `with` returns one shared overflow series whose every label
/// value is "other", so a label fed from the network cannot grow memory.
namespace ballot::metrics {

using label_values = std::vector<std::string>;

/// A monotonically increasing count.
class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept;
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Observations counted into buckets with fixed upper bounds (`le`).
class histogram {
 public:
  /// `bounds` must be strictly increasing (std::invalid_argument otherwise);
  /// the +Inf bucket is implicit.
  explicit histogram(std::vector<double> bounds);

  void observe(double v) noexcept;

  struct snapshot {
    std::vector<std::uint64_t> cumulative;  ///< per bound, then +Inf
    std::uint64_t count = 0;                ///< == cumulative.back()
    double sum = 0;
  };
  /// Buckets read one by one: a concurrent observe may be half in it, but the
  /// count is the +Inf bucket, so the exposition stays self-consistent.
  snapshot read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

/// Bucket bounds in seconds for latencies from 50 us to 10 s.
std::vector<double> latency_buckets();
/// Bounds 1, 2, 4, ... up to `max` (for sizes such as commands per batch).
std::vector<double> power_of_two_buckets(double max);

/// The part of a family that does not depend on its instrument type.
class family_base {
 public:
  family_base(std::string name, std::string help, kind k, std::vector<std::string> label_names,
              std::size_t max_series);
  virtual ~family_base() = default;

  const std::string& name() const { return name_; }
  /// Writes the HELP/TYPE lines and every series.
  virtual void render(text_writer& out) const = 0;

 protected:
  labels label_pairs(const label_values& values) const;
  /// `values` checked (count) and trimmed (each value to 128 bytes).
  label_values normalized(const label_values& values) const;

  std::string name_;
  std::string help_;
  kind kind_;
  std::vector<std::string> label_names_;
  std::size_t max_series_;
  mutable std::mutex mutex_;
};

/// One metric name and its series, one per label set.
template <class T>
class family final : public family_base {
 public:
  using family_base::family_base;

  /// The series for `values` (one per label name), created on first use.
  /// Throws std::invalid_argument for the wrong number of values.
  T& with(const label_values& values = {}) {
    return with_impl(values, [] { return std::make_unique<T>(); });
  }

  void render(text_writer& out) const override;

 private:
  friend class registry;
  template <class Make>
  T& with_impl(const label_values& values, Make make);

  std::vector<double> bounds_;  ///< histograms only
  std::map<label_values, std::unique_ptr<T>> series_;
};

template <>
inline histogram& family<histogram>::with(const label_values& values) {
  return with_impl(values, [this] { return std::make_unique<histogram>(bounds_); });
}

// Defined in registry.cpp, one per instrument type.
template <>
void family<counter>::render(text_writer& out) const;
template <>
void family<gauge>::render(text_writer& out) const;
template <>
void family<histogram>::render(text_writer& out) const;

/// Metric families by name, plus collectors that write values computed at
/// scrape time (for state owned elsewhere, such as a balancer's).
class registry {
 public:
  /// Each throws std::invalid_argument for an invalid or already used name,
  /// or an invalid label name. Counter names must end in `_total`.
  family<counter>& add_counter(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::size_t max_series = 1000);
  family<gauge>& add_gauge(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {},
                           std::size_t max_series = 1000);
  family<histogram>& add_histogram(const std::string& name, const std::string& help,
                                   std::vector<double> bounds,
                                   std::vector<std::string> label_names = {},
                                   std::size_t max_series = 1000);

  /// Called at every render, after the families, on the rendering thread; it
  /// writes whole families of its own (their names must not clash). Returns
  /// an id for `remove_collector`.
  using collector = std::function<void(text_writer&)>;
  std::uint64_t add_collector(collector c);
  void remove_collector(std::uint64_t id);

  /// The whole exposition. Thread-safe.
  std::string render() const;

 private:
  void check_new(const std::string& name, const std::vector<std::string>& label_names) const;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family_base>> families_;
  std::map<std::uint64_t, collector> collectors_;
  std::uint64_t next_collector_ = 0;
};

// -- template definitions ------------------------------------------------------

template <class T>
template <class Make>
T& family<T>::with_impl(const label_values& values, Make make) {
  auto key = normalized(values);
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = series_.find(key);
  if (it != series_.end())
    return *it->second;
  if (series_.size() >= max_series_)
    key.assign(label_names_.size(), "other");
  auto& slot = series_[key];
  if (!slot)
    slot = make();
  return *slot;
}

}  // namespace ballot::metrics
