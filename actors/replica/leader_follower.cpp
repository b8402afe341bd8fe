#include "actors/replica/leader_follower.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

namespace ballot::routing {

std::string validate(const follower_config& c) {
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
  if (c.round_pause.count() < 0)
    return "round_pause " + ms(c.round_pause) + " is negative";
  if (c.overload_first.count() <= 0)
    return "overload_first " + ms(c.overload_first) + " is not positive";
  if (c.overload_max < c.overload_first)
    return "overload_max " + ms(c.overload_max) + " is below overload_first " +
           ms(c.overload_first);
  return {};
}

namespace {

std::vector<leader_follower::member_id> checked(const follower_config& cfg,
                                                std::vector<leader_follower::member_id> members) {
  if (auto why = validate(cfg); !why.empty())
    throw std::invalid_argument("leader_follower: " + why);
  if (members.empty())
    throw std::invalid_argument("leader_follower: no members to try");
  if (std::set<leader_follower::member_id>(members.begin(), members.end()).size() != members.size())
    throw std::invalid_argument("leader_follower: a member is listed twice");
  return members;
}

}  // namespace

leader_follower::leader_follower(const follower_config& cfg, std::vector<member_id> members,
                                 member_id start, time_point deadline)
    : cfg_(cfg), members_(checked(cfg, std::move(members))), target_(start), deadline_(deadline) {}

leader_follower::member_id leader_follower::after(member_id id) const {
  auto it = std::find(members_.begin(), members_.end(), id);
  if (it == members_.end() || ++it == members_.end())
    return members_.front();
  return *it;
}

leader_follower::next_try leader_follower::next(time_point now) const {
  next_try out;
  out.member = target_;
  out.at = std::max(now, resume_at_);
  if (now >= deadline_ || resume_at_ >= deadline_)
    out.what = verdict::give_up;
  else if (resume_at_ > now)
    out.what = verdict::pause;
  return out;
}

void leader_follower::succeeded() {
  last_overloaded_ = false;
}

void leader_follower::failed(time_point now) {
  last_overloaded_ = false;
  target_ = after(target_);
  if (++failures_ < members_.size())
    return;
  // Every member failed once: an election may be under way.
  failures_ = 0;
  hops_ = 0;
  resume_at_ = now + cfg_.round_pause;
}

void leader_follower::not_leader(std::optional<member_id> hint, time_point now) {
  if (hint && *hint != target_ && hops_ < cfg_.max_hops) {
    last_overloaded_ = false;
    ++hops_;
    target_ = *hint;
    return;
  }
  failed(now);
}

void leader_follower::overloaded(std::uint64_t random, time_point now) {
  last_overloaded_ = true;
  auto shift = std::min(overloads_++, 16);
  auto base = std::min<std::int64_t>(cfg_.overload_max.count(),
                                     cfg_.overload_first.count() * (std::int64_t{1} << shift));
  auto half = base / 2;
  auto pause = half + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(half + 1));
  resume_at_ = now + std::chrono::milliseconds(pause);
}

}  // namespace ballot::routing
