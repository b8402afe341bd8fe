// Time in the lock workload. Leaders stamp lease time (paxos::lease_clock):
// the log's time, run on by each node's monotonic clock, each reading
// counting at most `max_step`. Wall clocks step by up to two hours and
// monotonic clocks drift and jump (node_clocks); these checks hold anyway.
//
// Lease. Let leader L stamp command C at true time r, after it applied the
// last renewal R of session s (an open or a keep-alive, at log time T_R),
// so s's deadline is T_R + ttl, unless a leader_change since its open (at
// log time T_G) extended it to T_G + grace. When L applied R, at true time
// A_R, its lease clock was lifted to T_R within a tick (it follows the log
// every tick); from then on it ran at L's rate, never slower (a jump only
// adds, and a tick's reading is below max_step). So once
// r > A_R + (ttl + 1) / rate + 2 ticks, C's stamp is past T_R + ttl and C
// expires s; likewise from A_G + grace (a G that L had not applied yet
// leaves s unchecked). A session still live after such a C is a violation.
// A leader_change itself is not checked: it extends first.
//
// What a fail-over adds is in that statement: the new leader measures from
// when *it* applied the renewal (a lagging follower applies it late), and a
// leader_change gives the grace from when it applied. A leader whose lease
// clock restarted measures from its re-application, so the time it was down
// is not counted either. Nothing else: the new leader's clock kept running
// as a follower, so the election's own length is not lost, and no wall
// clock takes part.
//
// Lock-delay. When a holder's session expires at log time E (not on a clean
// release or close), its lock is granted to nobody at a log time before
// E + the delay that holder asked for.
#include "tests/sim/lease_oracle.hpp"

#include <algorithm>
#include <variant>

#include "actors/lock/lock_codec.hpp"
#include "tests/sim/lock_workload.hpp"

namespace ballot::sim {

namespace {

/// A replica tick is ten milliseconds of simulated time.
constexpr std::uint64_t tick_ms = 10;

}  // namespace

lease_oracle::lease_oracle(lock_host& host, const node_clocks& clocks, lock::time_ms grace_ms)
    : host_(host), clocks_(clocks), grace_(grace_ms) {}

void lease_oracle::on_applied(paxos::node_id node, std::size_t index) {
  auto& at = applied_at_[node];
  if (at.size() < index)
    at.resize(index, 0);
  at[index - 1] = host_.now_ms();
}

void lease_oracle::on_restored(paxos::node_id node, std::size_t index) {
  auto& at = applied_at_[node];
  at.assign(index, host_.now_ms());
}

void lease_oracle::on_stamped(const std::string& payload, paxos::node_id node,
                              std::size_t applied) {
  // The same bytes twice (the same command at the same lease time) keep the
  // first, earlier stamp: a smaller r, so no false alarm.
  stamped_.emplace(payload, stamp_info{node, host_.now_ms(), applied});
}

void lease_oracle::on_first_apply(std::size_t index, const std::string& payload,
                                  const lock::command& cmd, const std::string& result,
                                  const service::change* ch, const service::service_machine& sm) {
  lock::result r;
  std::string error;
  bool ok = lock::decode(result, r, error) && r.code == lock::result_code::ok;
  if (auto* o = std::get_if<lock::open_session>(&cmd); o && ok)
    renewals_[r.session] = renewal{index, index, o->ttl_ms};
  else if (auto* k = std::get_if<lock::keep_alive>(&cmd); k && ok)
    renewals_[k->session].index = index;
  else if (std::holds_alternative<lock::keep_alive_many>(cmd) && ok) {
    for (auto& kept : r.kept)
      if (kept.code == lock::result_code::ok)
        renewals_[kept.session].index = index;
  } else if (std::holds_alternative<lock::leader_change>(cmd))
    leader_changes_.insert(index);
  if (ch != nullptr)
    for (auto s : ch->expired)
      renewals_.erase(s);
  check_delay(index, ch, sm);
  if (host_.failed())
    return;
  // A leader_change grants the grace before it expires anything.
  if (auto st = stamped_.find(payload);
      st != stamped_.end() && !std::holds_alternative<lock::leader_change>(cmd))
    check_lease(index, st->second, sm);
}

void lease_oracle::check_lease(std::size_t index, const stamp_info& st,
                               const service::service_machine& sm) {
  auto& at = applied_at_[st.node];
  // The node's clock rate: it measures a true interval d as d * rate.
  auto rate = 1.0 + static_cast<double>(clocks_.drift_ppm(st.node)) / 1e6;
  auto within = [&](lock::time_ms span) {
    return static_cast<std::uint64_t>(static_cast<double>(span + 1) / rate) + 1 + 2 * tick_ms;
  };
  for (auto& [id, s] : sm.locks().sessions().sessions()) {
    auto ren = renewals_.find(id);
    if (ren == renewals_.end() || ren->second.index > st.applied || ren->second.index > at.size() ||
        at[ren->second.index - 1] == 0)
      continue;  // the leader had not applied its last renewal when it stamped
    ++checked_;
    auto by = at[ren->second.index - 1] + within(ren->second.ttl);
    std::string why = "ttl " + std::to_string(ren->second.ttl) + " ms after it applied command #" +
                      std::to_string(ren->second.index) +
                      " (its last renewal) at t=" + std::to_string(at[ren->second.index - 1]) +
                      " ms";
    // Every leader_change since the open extended the deadline to its log
    // time plus the grace, measured from when the leader applied it. One it
    // had not applied when it stamped (its own, fresh) cannot be bounded: its
    // log time may be ahead of the leader's clock, which catches up only
    // when the leader applies it.
    bool unbounded = false;
    for (auto g = leader_changes_.upper_bound(ren->second.open_index);
         g != leader_changes_.end() && *g < index; ++g) {
      if (*g > st.applied || *g > at.size() || at[*g - 1] == 0) {
        unbounded = true;
        break;
      }
      auto from = at[*g - 1];
      if (from + within(grace_) > by) {
        by = from + within(grace_);
        why = "the grace of " + std::to_string(grace_) + " ms after it applied " + "command #" +
              std::to_string(*g) + " (leader_change) at t=" + std::to_string(from) + " ms";
      }
    }
    if (unbounded)
      continue;
    if (st.at > by)
      return host_.fail("session " + std::to_string(id) + " (deadline " +
                        std::to_string(s.deadline) + ") is live after command #" +
                        std::to_string(index) + ", which node " + std::to_string(st.node) +
                        " stamped at t=" + std::to_string(st.at) + " ms, later than " + why +
                        " (t=" + std::to_string(by) + " ms, allowing for its clock rate)");
  }
}

void lease_oracle::check_delay(std::size_t index, const service::change* ch,
                               const service::service_machine& sm) {
  auto now = sm.locks().now();
  if (ch != nullptr) {
    // Expiries that began a delay in this very command, per lock: a shared
    // grant in it may have joined the shared holder before it expired (the
    // service expires sessions one at a time, each handing its locks on).
    std::map<std::string, bool> shared_only;
    for (auto s : ch->expired)
      for (auto& [name, holders] : holders_)
        if (auto h = holders.find(s); h != holders.end() && h->second.first > 0) {
          auto& until = delay_until_[name];
          until = std::max(until, now + h->second.first);
          auto shared = h->second.second == lock::lock_mode::shared;
          auto [it, fresh] = shared_only.emplace(name, shared);
          if (!fresh)
            it->second = it->second && shared;
          ++delays_;
          host_.trace("session " + std::to_string(s) + " expired holding " + name +
                      " at log time " + std::to_string(now) + ": lock-delay until " +
                      std::to_string(until));
        }
    for (auto& g : ch->grants) {
      auto d = delay_until_.find(g.name);
      if (d == delay_until_.end() || now >= d->second)
        continue;
      if (auto so = shared_only.find(g.name);
          so != shared_only.end() && so->second && g.mode == lock::lock_mode::shared)
        continue;
      return host_.fail("command #" + std::to_string(index) + " granted " + g.name +
                        " to session " + std::to_string(g.session) + " at log time " +
                        std::to_string(now) + ", before the lock-delay of an expired " +
                        "holder ended at " + std::to_string(d->second));
    }
  }
  holders_.clear();
  for (auto& [name, l] : sm.locks().locks().locks())
    for (auto& h : l.holders)
      holders_[name][h.session] = {h.delay_ms, h.mode};
}

}  // namespace ballot::sim
