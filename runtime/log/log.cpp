#include "runtime/log/log.hpp"

#include <atomic>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/log/spdlog_logger.hpp"

namespace ballot::logging {

namespace {

std::atomic<int> threshold{static_cast<int>(level::info)};
std::atomic<int> line_format{static_cast<int>(format::text)};

std::mutex sink_mtx;
line_sink custom_sink;
/// Held while a custom sink runs: sinks see one line at a time, as spdlog's
/// own sinks do. Recursive, so a sink may log itself.
std::recursive_mutex write_mtx;

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::trace:
      return spdlog::level::trace;
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

std::shared_ptr<spdlog::logger> spdlog_logger() {
  // Not registered in spdlog's global registry: an embedder's own "ballot"
  // logger, or its spdlog::drop_all(), must not clash with ours.
  static auto logger = [] {
    auto l =
      std::make_shared<spdlog::logger>("ballot", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    // Operators tail the log and tests read it as it comes: no buffering.
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}

void set_level(level lvl) {
  threshold.store(static_cast<int>(lvl), std::memory_order_relaxed);
}

level current_level() {
  return static_cast<level>(threshold.load(std::memory_order_relaxed));
}

void set_format(format f) {
  line_format.store(static_cast<int>(f), std::memory_order_relaxed);
}

format current_format() {
  return static_cast<format>(line_format.load(std::memory_order_relaxed));
}

void set_sink(line_sink sink) {
  std::lock_guard<std::mutex> guard{sink_mtx};
  custom_sink = std::move(sink);
}

bool enabled(level lvl) {
  return lvl != level::off && static_cast<int>(lvl) >= threshold.load(std::memory_order_relaxed);
}

void write(level lvl, std::string msg, std::vector<field> fields) {
  if (!enabled(lvl))
    return;
  write(record{std::chrono::system_clock::now(), lvl, std::move(msg), std::move(fields)});
}

void write(record r) {
  if (!enabled(r.lvl))
    return;
  if (r.ts == std::chrono::system_clock::time_point{})
    r.ts = std::chrono::system_clock::now();
  auto line = format_record(current_format(), r);
  line_sink sink;
  {
    std::lock_guard<std::mutex> guard{sink_mtx};
    sink = custom_sink;
  }
  if (sink) {
    std::lock_guard<std::recursive_mutex> one_at_a_time{write_mtx};
    sink(r.lvl, line);
    return;
  }
  spdlog_logger()->log(to_spdlog(r.lvl), "{}", line);
}

}  // namespace ballot::logging
