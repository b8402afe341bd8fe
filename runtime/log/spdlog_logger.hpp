#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace ballot::logging {

/// The spdlog logger behind runtime/log/log.hpp (named "ballot"): add sinks
/// (a rotating file, syslog, ...) to it. It receives whole formatted lines
/// (its pattern is "%v"); its own level is kept at trace, the threshold is
/// `set_level`'s.
std::shared_ptr<spdlog::logger> spdlog_logger();

}  // namespace ballot::logging
