#include "actors/lock/session_table.hpp"

#include <string>

namespace ballot::lock {

session_id session_table::open(time_ms now, time_ms ttl_ms, std::string owner,
                               std::uint64_t secret) {
  auto id = next_id_++;
  auto& s = sessions_[id];
  s.ttl_ms = ttl_ms;
  s.owner = std::move(owner);
  s.secret = secret;
  s.deadline = saturating_add(now, ttl_ms);
  by_deadline_.emplace(s.deadline, id);
  return id;
}

bool session_table::keep_alive(session_id id, time_ms now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end())
    return false;
  // Never shortens: a grace period granted by a leader change stays.
  auto deadline = saturating_add(now, it->second.ttl_ms);
  if (deadline > it->second.deadline)
    set_deadline(id, it->second, deadline);
  return true;
}

void session_table::extend_all(time_ms until) {
  while (!by_deadline_.empty() && by_deadline_.begin()->first < until) {
    auto id = by_deadline_.begin()->second;
    set_deadline(id, sessions_.at(id), until);
  }
}

std::vector<session_id> session_table::expire(time_ms now) {
  std::vector<session_id> out;
  while (!by_deadline_.empty() && by_deadline_.begin()->first < now) {
    auto id = by_deadline_.begin()->second;
    by_deadline_.erase(by_deadline_.begin());
    sessions_.erase(id);
    out.push_back(id);
  }
  return out;
}

bool session_table::close(session_id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end())
    return false;
  by_deadline_.erase({it->second.deadline, id});
  sessions_.erase(it);
  return true;
}

const session_table::session* session_table::find(session_id id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void session_table::set_deadline(session_id id, session& s, time_ms deadline) {
  by_deadline_.erase({s.deadline, id});
  s.deadline = deadline;
  by_deadline_.emplace(deadline, id);
}

void session_table::save(kv::detail::writer& w) const {
  w.integer(next_id_);
  w.integer(static_cast<std::uint64_t>(sessions_.size()));
  for (auto& [id, s] : sessions_) {
    w.integer(id);
    w.integer(s.ttl_ms);
    w.integer(s.deadline);
    w.string(s.owner);
    w.integer(s.secret);
  }
}

bool session_table::load(kv::detail::reader& r, bool with_credentials) {
  std::uint64_t count = 0;
  bool ok = r.integer(next_id_, "next session id") &&
            r.count(count, with_credentials ? 36 : 24, "session count");
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    session_id id = 0;
    session s;
    ok = r.integer(id, "session id") && r.integer(s.ttl_ms, "session ttl") &&
         r.integer(s.deadline, "session deadline");
    if (ok && with_credentials)
      ok = r.string(s.owner, "session owner") && r.integer(s.secret, "session secret");
    // What the table itself never holds: id 0, ids not yet handed out, repeats.
    if (ok && (id == 0 || id >= next_id_ || sessions_.count(id) != 0))
      ok = r.fail("session id", "invalid or repeated session id " + std::to_string(id));
    if (ok) {
      sessions_.emplace(id, s);
      by_deadline_.emplace(s.deadline, id);
    }
  }
  return ok;
}

}  // namespace ballot::lock
