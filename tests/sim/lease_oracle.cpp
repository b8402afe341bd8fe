// Time in the lock workload. Leaders stamp lease time (paxos::lease_clock):
// the log's time, run on by each node's monotonic clock, each reading
// counting at most `max_step`. Wall clocks step by up to two hours and
// monotonic clocks drift and jump (node_clocks); these checks hold anyway.
//
// Lease. Let leader L stamp command C at true time r, having applied the
// commands up to #j (at true time A_j; the log's time after #j is T_j). A
// session's deadline D is T_R + ttl for its last renewal R (an open or a
// keep-alive) that L applied, raised to T_G + grace by every leader_change G
// since its open. L's lease clock at r is at least T_j + (r - A_j) at L's
// rate: it follows the log within a tick (a follower's is set to the newest
// stamp it applied, even back; a leader's never lags the log), and from then
// on it runs at L's rate, never slower (a jump only adds, and a tick's
// reading is below max_step). So once r > A_j + (D - T_j + 1) / rate + 2
// ticks, C's stamp is past D and C expires the session. A session still live
// after such a C is a violation. A leader_change itself is not checked: it
// extends first; nor is a G that L had not applied when it stamped.
//
// What a fail-over adds is in that statement: time the log lost (a leader
// measures from when it applied the newest stamp, so its own apply lag is
// not counted) is not made up later; a leader_change gives the grace from its
// log time; a leader whose lease clock restarted measures from its
// re-application. Never counting more than elapsed is what keeps a healthy
// session alive across fail-overs (the keeper's check in lock_workload).
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
  if (log_times_.size() < index)
    log_times_.resize(index, 0);
  log_times_[index - 1] = sm.log_time_ms();
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
  auto j = st.applied;
  if (j == 0 || j > at.size() || j > log_times_.size() || at[j - 1] == 0)
    return;  // it applied nothing in this incarnation yet
  // The node's clock rate: it measures a true interval d as d * rate.
  auto rate = 1.0 + static_cast<double>(clocks_.drift_ppm(st.node)) / 1e6;
  auto within = [&](lock::time_ms span) {
    return static_cast<std::uint64_t>(static_cast<double>(span + 1) / rate) + 1 + 2 * tick_ms;
  };
  auto t_j = log_times_[j - 1];
  for (auto& [id, s] : sm.locks().sessions().sessions()) {
    auto ren = renewals_.find(id);
    if (ren == renewals_.end() || ren->second.index > j)
      continue;  // the leader had not applied its last renewal when it stamped
    ++checked_;
    auto deadline = log_times_[ren->second.index - 1] + ren->second.ttl;
    std::string why = "ttl " + std::to_string(ren->second.ttl) + " ms after command #" +
                      std::to_string(ren->second.index) + " (its last renewal)";
    bool unbounded = false;
    for (auto g = leader_changes_.upper_bound(ren->second.open_index);
         g != leader_changes_.end() && *g < index; ++g) {
      if (*g > j) {
        unbounded = true;  // its own fresh leader_change: applied after the stamp
        break;
      }
      if (auto until = log_times_[*g - 1] + grace_; until > deadline) {
        deadline = until;
        why = "the grace of " + std::to_string(grace_) + " ms after command #" +
              std::to_string(*g) + " (leader_change)";
      }
    }
    if (unbounded)
      continue;
    auto by = at[j - 1] + within(deadline > t_j ? deadline - t_j : 0);
    if (st.at > by)
      return host_.fail(
        "session " + std::to_string(id) + " (deadline " + std::to_string(s.deadline) +
        ") is live after command #" + std::to_string(index) + ", which node " +
        std::to_string(st.node) + " stamped at t=" + std::to_string(st.at) +
        " ms, past its deadline " + std::to_string(deadline) + " (" + why +
        "): it applied command #" + std::to_string(j) + " (log time " + std::to_string(t_j) +
        ") at t=" + std::to_string(at[j - 1]) + " ms, so its lease clock passed the deadline" +
        " by t=" + std::to_string(by) + " ms, allowing for its clock rate");
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
