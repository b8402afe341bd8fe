#include "tests/sim/node_clocks.hpp"

#include <array>

#include "tests/sim/lock_workload.hpp"

namespace ballot::sim {

namespace {

/// Wall clocks read like milliseconds since the epoch, so a step back of two
/// hours stays positive.
constexpr std::int64_t epoch_ms = 1'700'000'000'000;
constexpr std::int64_t two_hours_ms = std::int64_t{2} * 3600 * 1000;

}  // namespace

node_clocks::node_clocks(lock_host& host, std::size_t nodes, std::uint64_t max_ttl_ms,
                         std::uint64_t max_step_ms)
    : host_(host), max_ttl_(max_ttl_ms), max_step_(max_step_ms) {
  // Skew S <= 40 ms as before; drift none, 0.1 % or up to 5 % (real crystals
  // stay within 0.01 %: the simulator exaggerates).
  auto max_skew = host_.below(41);
  max_drift_ppm_ = std::array<std::int64_t, 3>{0, 1'000, 50'000}[host_.below(3)];
  for (paxos::node_id id = 1; id <= nodes; ++id) {
    auto& c = clocks_[id];
    c.skew_ms = host_.below(max_skew + 1);
    c.drift_ppm = max_drift_ppm_ == 0 ? 0
                                      : static_cast<std::int64_t>(host_.below(
                                          static_cast<std::uint64_t>(2 * max_drift_ppm_ + 1))) -
                                          max_drift_ppm_;
    c.lease = paxos::lease_clock{max_step_};
  }
  // Half the runs step wall clocks (about three steps a run), half make
  // monotonic clocks jump (at most one a run, see next_jump_).
  step_rate_ = host_.below(2) == 0 ? 0 : 10'000;
  jump_rate_ = host_.below(2) == 0 ? 0 : 10'000;
}

void node_clocks::inject(std::uint64_t now) {
  auto roll = [&](std::uint64_t per_million) { return host_.below(1'000'000) < per_million; };
  auto node = static_cast<paxos::node_id>(1 + host_.below(clocks_.size()));
  if (roll(step_rate_)) {
    // Small steps (NTP) as often as large ones (a wrong time zone, an
    // operator): up to a second, or up to two hours.
    auto large = host_.below(2) == 0;
    auto size = static_cast<std::int64_t>(
      1 + host_.below(large ? static_cast<std::uint64_t>(two_hours_ms) : 1'000));
    auto step = host_.below(2) == 0 ? size : -size;
    clocks_.at(node).wall_offset_ms += step;
    ++steps_;
    host_.trace("node " + std::to_string(node) + "'s wall clock steps " + (step > 0 ? "+" : "") +
                std::to_string(step) + " ms");
  }
  if (now >= next_jump_ && roll(jump_rate_)) {
    auto size = 1 + host_.below(5'000);
    clocks_.at(node).jumped_ms += size;
    next_jump_ = now + 2 * max_ttl_;
    ++jumps_;
    host_.trace("node " + std::to_string(node) + "'s monotonic clock jumps +" +
                std::to_string(size) + " ms");
  }
}

std::uint64_t node_clocks::wall_ms(paxos::node_id node, std::uint64_t now) const {
  auto& c = at(node);
  auto t = static_cast<std::int64_t>(mono_ms(node, now) - c.jumped_ms);
  return static_cast<std::uint64_t>(epoch_ms + t + static_cast<std::int64_t>(c.skew_ms) +
                                    c.wall_offset_ms);
}

std::uint64_t node_clocks::mono_ms(paxos::node_id node, std::uint64_t now) const {
  auto& c = at(node);
  auto t = static_cast<std::int64_t>(now);
  return static_cast<std::uint64_t>(t + t * c.drift_ppm / 1'000'000) + c.jumped_ms;
}

void node_clocks::restart(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms) {
  auto& c = clocks_.at(node);
  c.lease = paxos::lease_clock{max_step_};
  observe(node, now, log_time_ms, false);
}

void node_clocks::observe(paxos::node_id node, std::uint64_t now, std::uint64_t log_time_ms,
                          bool leading) {
  auto& c = clocks_.at(node);
  c.lease.advance(mono_ms(node, now));
  c.lease.follow(log_time_ms, leading);
}

std::uint64_t node_clocks::stamp(paxos::node_id node, std::uint64_t now,
                                 std::uint64_t log_time_ms) {
#ifdef BALLOT_MUTANT_LEASE_WALL_CLOCK
  (void)log_time_ms;
  return wall_ms(node, now);
#else
  auto& c = clocks_.at(node);
  c.lease.follow(log_time_ms, true);
  return c.lease.stamp(mono_ms(node, now));
#endif
}

std::string node_clocks::describe() const {
  return "clocks: drift <= " + std::to_string(max_drift_ppm_) + " ppm, wall steps " +
         (step_rate_ > 0 ? "on" : "off") + ", monotonic jumps " + (jump_rate_ > 0 ? "on" : "off") +
         ", lease step <= " + std::to_string(max_step_) + " ms";
}

}  // namespace ballot::sim
