#include "actors/replica/event_log.hpp"

#include <string>
#include <variant>

namespace ballot::actors {

using logging::field;
using logging::level;
using logging::record;

std::string to_string(const paxos::ballot_number& b) {
  return std::to_string(b.round) + "." + std::to_string(b.node);
}

record event_log::make(level lvl, const char* msg, const char* event) const {
  record r;
  r.lvl = lvl;
  r.msg = msg;
  r.fields = {field{"event", event}, field{"replica", self_}};
  return r;
}

std::vector<record> event_log::observe(const paxos::replica& core) {
  std::vector<record> out;
  auto role = core.role();
  auto hint = core.leader_hint();
  if (core.is_leader() && !was_leader_) {
    // It stood because it heard nothing from the leader it followed (the
    // candidacy may have been too short to be seen between two inputs).
    if (leader_) {
      auto lost = make(level::info, "leader lost", "leader_lost");
      lost.fields.emplace_back("leader", *leader_);
      lost.fields.emplace_back("promised", to_string(core.promised()));
      out.push_back(std::move(lost));
    }
    led_ = core.promised();
    auto r = make(level::info, "leader elected: this replica leads", "leader_elected");
    r.fields.emplace_back("ballot", to_string(led_));
    r.fields.emplace_back("commit", core.commit_index());
    out.push_back(std::move(r));
    leader_.reset();
  } else if (!core.is_leader() && was_leader_) {
    auto r =
      make(level::info, "leader stepped down: this replica no longer leads", "leader_stepped_down");
    r.fields.emplace_back("ballot", to_string(led_));
    r.fields.emplace_back("promised", to_string(core.promised()));
    if (hint && *hint != self_)
      r.fields.emplace_back("leader", *hint);
    out.push_back(std::move(r));
  }
  if (!core.is_leader()) {
    bool stood =
      role == paxos::proposer::role::candidate && role_ != paxos::proposer::role::candidate;
    if (leader_ && (!hint || stood)) {
      // Heard nothing from it for an election timeout (this replica stands
      // now), or it was forgotten: either way it no longer leads for us.
      auto r = make(level::info, "leader lost", "leader_lost");
      r.fields.emplace_back("leader", *leader_);
      r.fields.emplace_back("promised", to_string(core.promised()));
      out.push_back(std::move(r));
      leader_.reset();
    }
    if (hint && *hint != self_ && role == paxos::proposer::role::follower && leader_ != hint) {
      auto r = make(level::info, "new leader", "leader_changed");
      r.fields.emplace_back("leader", *hint);
      r.fields.emplace_back("ballot", to_string(core.promised()));
      if (leader_)
        r.fields.emplace_back("previous", *leader_);
      out.push_back(std::move(r));
      leader_ = hint;
    }
  }
  was_leader_ = core.is_leader();
  role_ = role;
  if (catchup_) {
    catchup_->target = std::max(catchup_->target, core.leader_commit());
    if (core.commit_index() >= catchup_->target) {
      auto r = make(level::info, "catch-up finished", "catchup_finished");
      r.fields.emplace_back("from", catchup_->from);
      r.fields.emplace_back("slots", core.commit_index() - catchup_->first);
      r.fields.emplace_back("commit", core.commit_index());
      out.push_back(std::move(r));
      catchup_.reset();
    }
  }
  return out;
}

std::vector<record> event_log::on_ready(const paxos::ready& rd, const paxos::replica& core) {
  std::vector<record> out;
  if (catchup_)
    return out;
  for (auto& env : rd.messages) {
    auto* req = std::get_if<paxos::catchup_request>(&env.msg);
    if (req == nullptr || env.from != self_ || env.to == self_)
      continue;
    auto target = core.leader_commit();
    if (target < core.commit_index() + catchup_log_gap)
      continue;
    catchup_ = catchup{env.to, core.commit_index(), target};
    auto r = make(level::info, "catch-up started", "catchup_started");
    r.fields.emplace_back("from", env.to);
    r.fields.emplace_back("first_slot", req->from);
    r.fields.emplace_back("target", target);
    out.push_back(std::move(r));
    break;
  }
  return out;
}

record event_log::snapshot(bool installed, const paxos::durable_state& compacted,
                           std::chrono::nanoseconds took) const {
  if (!compacted.snap)
    return snapshot(installed, 0, 0, took, {});
  return snapshot(installed, compacted.snap->last, compacted.snap->machine.size_hint(), took, {});
}

record event_log::snapshot(bool installed, paxos::slot_index slot, std::size_t bytes,
                           std::chrono::nanoseconds took, std::chrono::nanoseconds pause) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  auto r = installed ? make(level::info, "snapshot installed from a peer", "snapshot_installed")
                     : make(level::info, "snapshot taken", "snapshot_taken");
  if (bytes > 0) {
    r.fields.emplace_back("slot", slot);
    r.fields.emplace_back("bytes", bytes);
  }
  r.fields.emplace_back("duration_ms", duration_cast<milliseconds>(took).count());
  if (pause > std::chrono::nanoseconds{0})
    r.fields.emplace_back("pause_ms", duration_cast<milliseconds>(pause).count());
  return r;
}

std::optional<record> event_log::sync_took(std::chrono::nanoseconds took,
                                           std::chrono::nanoseconds threshold) const {
  if (threshold <= std::chrono::nanoseconds{0} || took <= threshold)
    return std::nullopt;
  auto r = make(level::warn, "slow fsync", "slow_fsync");
  r.fields.emplace_back("duration_ms",
                        std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  r.fields.emplace_back("threshold_ms",
                        std::chrono::duration_cast<std::chrono::milliseconds>(threshold).count());
  return r;
}

}  // namespace ballot::actors
