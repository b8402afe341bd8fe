#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Prometheus's text exposition format (version 0.0.4), written one family
/// at a time: `# HELP` and `# TYPE` lines, then its samples. Pure: no I/O.
namespace ballot::metrics {

enum class kind { counter, gauge, histogram };

/// Label name and value pairs of one sample, in the order written.
using labels = std::vector<std::pair<std::string, std::string>>;

/// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool valid_metric_name(std::string_view name);
/// Whether `name` is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed).
bool valid_label_name(std::string_view name);

/// `value` escaped for a label value (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

class text_writer {
 public:
  /// Starts a family: its HELP (escaped) and TYPE lines. Samples follow.
  void family(std::string_view name, std::string_view help, kind k);

  /// One sample line `name{labels} value`.
  void sample(std::string_view name, const labels& l, double value);
  void sample(std::string_view name, const labels& l, std::uint64_t value);

  /// The text so far (the writer is empty afterwards).
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, const labels& l);

  std::string out_;
};

/// A double as Prometheus reads it: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double value);

}  // namespace ballot::metrics
