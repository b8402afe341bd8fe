#include "runtime/metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ballot::metrics {

namespace {

constexpr std::size_t max_label_value_bytes = 128;

void atomic_add(std::atomic<double>& a, double d) noexcept {
  auto old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + d, std::memory_order_relaxed))
    ;  // retry with the fresh value
}

}  // namespace

void gauge::add(double d) noexcept {
  atomic_add(value_, d);
}

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (std::size_t i = 1; i < bounds_.size(); ++i)
    if (!(bounds_[i - 1] < bounds_[i]))
      throw std::invalid_argument("histogram bounds must increase strictly");
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  // Bucket i holds v <= bounds_[i]; the last one is +Inf.
  auto i =
    static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

std::vector<double> power_of_two_buckets(double max) {
  std::vector<double> out;
  // An integer exponent counts (a float loop counter may drift).
  for (int e = 0; e < 63 && std::ldexp(1.0, e) <= max; ++e)
    out.push_back(std::ldexp(1.0, e));
  return out;
}

family_base::family_base(std::string name, std::string help, kind k,
                         std::vector<std::string> label_names, std::size_t max_series)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(k),
      label_names_(std::move(label_names)),
      max_series_(std::max<std::size_t>(max_series, 1)) {}

labels family_base::label_pairs(const label_values& values) const {
  labels out;
  for (std::size_t i = 0; i < label_names_.size(); ++i)
    out.emplace_back(label_names_[i], values[i]);
  return out;
}

label_values family_base::normalized(const label_values& values) const {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " takes " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(values.size()));
  label_values out = values;
  for (auto& v : out)
    if (v.size() > max_label_value_bytes)
      v.resize(max_label_value_bytes);
  return out;
}

namespace {

/// Counters and gauges: one sample per series, its value as is.
template <class Series, class Pairs>
void render_values(text_writer& out, const std::string& name,
                   const std::map<label_values, std::unique_ptr<Series>>& series, Pairs pairs) {
  for (auto& [values, s] : series)
    out.sample(name, pairs(values), s->value());
}

}  // namespace

template <>
void family<counter>::render(text_writer& out) const {
  std::lock_guard<std::mutex> guard{mutex_};
  out.family(name_, help_, kind_);
  render_values(out, name_, series_, [this](auto& v) { return label_pairs(v); });
}

template <>
void family<gauge>::render(text_writer& out) const {
  std::lock_guard<std::mutex> guard{mutex_};
  out.family(name_, help_, kind_);
  render_values(out, name_, series_, [this](auto& v) { return label_pairs(v); });
}

template <>
void family<histogram>::render(text_writer& out) const {
  std::lock_guard<std::mutex> guard{mutex_};
  out.family(name_, help_, kind_);
  for (auto& [values, h] : series_) {
    auto snap = h->read();
    auto l = label_pairs(values);
    l.emplace_back("le", "");
    for (std::size_t i = 0; i < snap.cumulative.size(); ++i) {
      l.back().second = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
      out.sample(name_ + "_bucket", l, snap.cumulative[i]);
    }
    l.pop_back();
    out.sample(name_ + "_sum", l, snap.sum);
    out.sample(name_ + "_count", l, snap.count);
  }
}

void registry::check_new(const std::string& name,
                         const std::vector<std::string>& label_names) const {
  if (!valid_metric_name(name))
    throw std::invalid_argument("invalid metric name '" + name + "'");
  for (auto& l : label_names)
    if (!valid_label_name(l) || l == "le")
      throw std::invalid_argument("invalid label name '" + l + "' for metric " + name);
  for (auto& f : families_)
    if (f->name() == name)
      throw std::invalid_argument("metric " + name + " is registered twice");
}

family<counter>& registry::add_counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names,
                                       std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mutex_};
  check_new(name, label_names);
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0)
    throw std::invalid_argument("counter " + name + " must end in _total");
  auto f = std::make_unique<family<counter>>(name, help, kind::counter, std::move(label_names),
                                             max_series);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

family<gauge>& registry::add_gauge(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names, std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mutex_};
  check_new(name, label_names);
  auto f =
    std::make_unique<family<gauge>>(name, help, kind::gauge, std::move(label_names), max_series);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

family<histogram>& registry::add_histogram(const std::string& name, const std::string& help,
                                           std::vector<double> bounds,
                                           std::vector<std::string> label_names,
                                           std::size_t max_series) {
  std::lock_guard<std::mutex> guard{mutex_};
  check_new(name, label_names);
  histogram check{bounds};  // throws for bounds that do not increase
  auto f = std::make_unique<family<histogram>>(name, help, kind::histogram, std::move(label_names),
                                               max_series);
  f->bounds_ = std::move(bounds);
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

std::uint64_t registry::add_collector(collector c) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto id = ++next_collector_;
  collectors_.emplace(id, std::move(c));
  return id;
}

void registry::remove_collector(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  collectors_.erase(id);
}

std::string registry::render() const {
  text_writer out;
  std::lock_guard<std::mutex> guard{mutex_};
  for (auto& f : families_)
    f->render(out);
  for (auto& [id, c] : collectors_)
    c(out);
  return out.take();
}

}  // namespace ballot::metrics
