#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/log/log_format.hpp"

/// The process-wide logger: ballotd, the replica actors, the gateway and the
/// peer transport write their events here. Lines go to stderr through spdlog
/// (flushed at once) unless an embedder installs a sink of its own; the
/// default threshold is `info`, the default format `text`. Thread-safe; a
/// record under the threshold costs one atomic load.
namespace ballot::logging {

/// Lines of `lvl` and above are written; `level::off` writes none.
void set_level(level lvl);
level current_level();

/// The line format of every sink.
void set_format(format f);
format current_format();

/// Receives each formatted line (no newline) instead of stderr, one line at
/// a time (calls are serialized, from whichever thread logs; a sink may log
/// itself); an empty function restores stderr. For embedders that route Ballot's logs into
/// their own logging; spdlog users can instead add sinks to `spdlog_logger()`
/// (runtime/log/spdlog_logger.hpp).
using line_sink = std::function<void(level, const std::string& line)>;
void set_sink(line_sink sink);

/// Whether a record of `lvl` would be written (build costly fields only then).
bool enabled(level lvl);

/// Stamps the time and writes the record if its level passes.
void write(level lvl, std::string msg, std::vector<field> fields = {});
void write(record r);

inline void trace(std::string msg, std::vector<field> fields = {}) {
  write(level::trace, std::move(msg), std::move(fields));
}
inline void debug(std::string msg, std::vector<field> fields = {}) {
  write(level::debug, std::move(msg), std::move(fields));
}
inline void info(std::string msg, std::vector<field> fields = {}) {
  write(level::info, std::move(msg), std::move(fields));
}
inline void warn(std::string msg, std::vector<field> fields = {}) {
  write(level::warn, std::move(msg), std::move(fields));
}
inline void error(std::string msg, std::vector<field> fields = {}) {
  write(level::error, std::move(msg), std::move(fields));
}

}  // namespace ballot::logging
