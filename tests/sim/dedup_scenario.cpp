#include "tests/sim/dedup_scenario.hpp"

#include <array>
#include <limits>

namespace ballot::sim {

namespace {

constexpr std::uint64_t no_bound = std::numeric_limits<std::uint64_t>::max() / 4;

}  // namespace

dedup_scenario::dedup_scenario(std::uint64_t seed, bool enabled_for)
    : rng_(seed * 0x9E3779B97F4A7C15ULL + 41) {
  if (!enabled_for || rng_() % 2 != 0)
    return;
  // A run's fault phase is 3 s: clients go idle and come back within it.
  ttl_ms_ = 800 + rng_() % 1200;
  window_ = std::array<std::size_t, 3>{2, 4, 64}[rng_() % 3];
  jumps_ = rng_() % 2 == 0;
}

void dedup_scenario::restart(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms) {
  clocks_.erase(node);
  clocks_.emplace(node, paxos::lease_clock{no_bound});
  observe(node, now, log_time_ms, false);
}

void dedup_scenario::observe(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms,
                             bool leading) {
  auto& c = clocks_.at(node);
  c.advance(mono(node, now));
  c.follow(log_time_ms, leading);
}

std::uint64_t dedup_scenario::stamp(paxos::node_id node, std::uint64_t now,
                                    std::uint64_t log_time_ms) {
  auto& c = clocks_.at(node);
  c.follow(log_time_ms, true);
  return c.stamp(mono(node, now));
}

void dedup_scenario::inject(std::uint64_t now, std::size_t nodes,
                            const std::function<void(std::string)>& trace) {
  // At most one jump in two TTLs: a live client sees at most one.
  if (!jumps_ || now < next_jump_ || rng_() % 200 != 0)
    return;
  auto node = static_cast<paxos::node_id>(1 + rng_() % nodes);
  auto size = 1 + rng_() % (3 * ttl_ms_);
  jumped_[node] += size;
  next_jump_ = now + 2 * ttl_ms_;
  trace("node " + std::to_string(node) + "'s clock jumps +" + std::to_string(size) + " ms");
}

std::string dedup_scenario::describe() const {
  return "dedup: ttl " + std::to_string(ttl_ms_) + " ms of log time, window " +
         std::to_string(window_) + ", step bound " + std::to_string(max_step_ms()) +
         " ms, clock jumps " + (jumps_ ? "on" : "off");
}

}  // namespace ballot::sim
