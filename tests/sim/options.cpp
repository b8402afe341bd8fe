#include <string>

#include "tests/sim/simulation.hpp"

namespace ballot::sim {

options lock_options(std::uint64_t seed) {
  options opts;
  opts.work = options::workload::lock;
  opts.seed = seed;
  opts.liveness_ticks = 800;
  return opts;
}

std::string replay_command(const options& opts, const std::string& program) {
  return program + (opts.work == options::workload::lock ? " --workload lock" : "") + " --seed " +
         std::to_string(opts.seed) + " --nodes " + std::to_string(opts.nodes) + " --fault-ticks " +
         std::to_string(opts.fault_ticks) + " --liveness-ticks " +
         std::to_string(opts.liveness_ticks) + " --clients " + std::to_string(opts.clients) +
         " --trace";
}

}  // namespace ballot::sim
