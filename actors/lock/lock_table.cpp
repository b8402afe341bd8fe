#include "actors/lock/lock_table.hpp"

#include <algorithm>

namespace ballot::lock {

namespace {

/// Whether a grant in `mode` can join the current holders.
bool holders_allow(const lock_table::lock& l, lock_mode mode) {
#ifndef BALLOT_MUTANT_LOCK_EXCLUSIVE_WITH_SHARED
  if (mode == lock_mode::exclusive)
    return l.holders.empty();
#else
  (void)mode;  // an exclusive grant may join shared holders
#endif
  return std::none_of(l.holders.begin(), l.holders.end(),
                      [](auto& h) { return h.mode == lock_mode::exclusive; });
}

/// Whether a grant in `mode` can be made at `now` (no lock-delay pending).
bool compatible(const lock_table::lock& l, lock_mode mode, time_ms now) {
  return now >= l.delay_until && holders_allow(l, mode);
}

template <class Container>
auto find_session(Container& c, session_id session) {
  return std::find_if(c.begin(), c.end(), [&](auto& x) { return x.session == session; });
}

void erase_from(std::map<session_id, std::set<std::string>>& index, session_id session,
                const std::string& name) {
  auto it = index.find(session);
  if (it == index.end())
    return;
  it->second.erase(name);
  if (it->second.empty())
    index.erase(it);
}

}  // namespace

lock_table::acquired lock_table::acquire(session_id session, const std::string& name,
                                         lock_mode mode, bool wait, time_ms delay_ms, time_ms now) {
  auto it = locks_.find(name);
  if (it != locks_.end()) {
    auto& l = it->second;
    if (auto h = find_session(l.holders, session); h != l.holders.end())
      return {outcome::already_held, h->token};
    if (find_session(l.waiters, session) != l.waiters.end())
      return {outcome::already_waiting, 0};
    // FIFO: with anybody queued, a newcomer goes behind them even if it would
    // be compatible with the holders right now.
    if (!l.waiters.empty() || !compatible(l, mode, now)) {
      if (!wait)
        return {outcome::busy, 0};
      l.waiters.push_back({session, mode, delay_ms});
      waiting_[session].insert(name);
      return {outcome::queued, 0};
    }
  } else {
    it = locks_.emplace(name, lock{}).first;
  }
  auto token = ++last_token_;
  it->second.holders.push_back({session, mode, token, delay_ms});
  held_[session].insert(name);
  return {outcome::granted, token};
}

bool lock_table::release(session_id session, const std::string& name, time_ms now,
                         std::vector<grant>& grants) {
  auto it = locks_.find(name);
  if (it == locks_.end())
    return false;
  auto& holders = it->second.holders;
  auto h = find_session(holders, session);
  if (h == holders.end())
    return false;
  holders.erase(h);
  erase_from(held_, session, name);
  grant_waiters(it, now, grants);
  forget_if_idle(it);
  return true;
}

bool lock_table::cancel_wait(session_id session, const std::string& name, time_ms now,
                             std::vector<grant>& grants) {
  auto it = locks_.find(name);
  if (it == locks_.end())
    return false;
  auto& waiters = it->second.waiters;
  auto w = find_session(waiters, session);
  if (w == waiters.end())
    return false;
  waiters.erase(w);
  erase_from(waiting_, session, name);
  grant_waiters(it, now, grants);
  forget_if_idle(it);
  return true;
}

void lock_table::drop_session(session_id session, bool expired, time_ms now,
                              std::vector<grant>& grants) {
  std::set<std::string> touched;
  if (auto held = held_.find(session); held != held_.end()) {
    touched = std::move(held->second);
    held_.erase(held);
  }
  for (auto& name : touched) {
    auto& l = locks_.at(name);
    auto h = find_session(l.holders, session);
    auto until = saturating_add(now, h->delay_ms);
#ifdef BALLOT_MUTANT_LOCK_DELAY_IGNORED
    until = now;
#endif
    l.holders.erase(h);
    // Only a delay that ends in the future matters; the latest one wins when
    // several shared holders expire.
    if (expired && until > now && until > l.delay_until) {
      delayed_.erase({l.delay_until, name});
      l.delay_until = until;
      delayed_.emplace(until, name);
    }
  }
#ifndef BALLOT_MUTANT_LOCK_EXPIRY_KEEPS_WAITS
  if (auto waits = waiting_.find(session); waits != waiting_.end()) {
#else
  if (auto waits = waiting_.find(session); waits != waiting_.end() && !expired) {
#endif
    for (auto& name : waits->second) {
      auto& waiters = locks_.at(name).waiters;
      waiters.erase(find_session(waiters, session));
      touched.insert(name);
    }
    waiting_.erase(waits);
  }
  for (auto& name : touched) {
    auto it = locks_.find(name);
    grant_waiters(it, now, grants);
    forget_if_idle(it);
  }
}

void lock_table::advance(time_ms now, std::vector<grant>& grants) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    auto name = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    auto it = locks_.find(name);
    // Reset rather than left in the past: equal states then have equal bytes.
    it->second.delay_until = 0;
    grant_waiters(it, now, grants);
    forget_if_idle(it);
  }
}

bool lock_table::token_valid(const std::string& name, std::uint64_t token) const {
  auto l = find(name);
  return l != nullptr && std::any_of(l->holders.begin(), l->holders.end(),
                                     [&](auto& h) { return h.token == token; });
}

const lock_table::lock* lock_table::find(const std::string& name) const {
  auto it = locks_.find(name);
  return it == locks_.end() ? nullptr : &it->second;
}

std::set<session_id> lock_table::sessions() const {
  std::set<session_id> out;
  for (auto& [id, names] : held_)
    out.insert(id);
  for (auto& [id, names] : waiting_)
    out.insert(id);
  return out;
}

void lock_table::grant_waiters(iterator it, time_ms now, std::vector<grant>& grants) {
  auto& l = it->second;
  while (!l.waiters.empty() && compatible(l, l.waiters.front().mode, now)) {
    auto w = l.waiters.front();
    l.waiters.pop_front();
    erase_from(waiting_, w.session, it->first);
    auto token = ++last_token_;
    l.holders.push_back({w.session, w.mode, token, w.delay_ms});
    held_[w.session].insert(it->first);
    grants.push_back({w.session, it->first, w.mode, token});
  }
}

void lock_table::forget_if_idle(iterator it) {
  auto& l = it->second;
  if (l.holders.empty() && l.waiters.empty() && l.delay_until == 0)
    locks_.erase(it);
}

void lock_table::save(kv::detail::writer& w) const {
  w.integer(last_token_);
  w.integer(static_cast<std::uint64_t>(locks_.size()));
  for (auto& [name, l] : locks_) {
    w.string(name);
    w.integer(l.delay_until);
    w.integer(static_cast<std::uint32_t>(l.holders.size()));
    for (auto& h : l.holders) {
      w.integer(h.session);
      w.integer(static_cast<std::uint8_t>(h.mode));
      w.integer(h.token);
      w.integer(h.delay_ms);
    }
    w.integer(static_cast<std::uint32_t>(l.waiters.size()));
    for (auto& x : l.waiters) {
      w.integer(x.session);
      w.integer(static_cast<std::uint8_t>(x.mode));
      w.integer(x.delay_ms);
    }
  }
}

namespace {

bool read_mode(kv::detail::reader& r, lock_mode& mode, const char* field) {
  std::uint8_t byte = 0;
  if (!r.integer(byte, field))
    return false;
  if (byte > static_cast<std::uint8_t>(lock_mode::shared))
    return r.fail(field, "unknown lock mode " + std::to_string(byte));
  mode = static_cast<lock_mode>(byte);
  return true;
}

bool read_delay(kv::detail::reader& r, time_ms& delay, const char* field) {
  if (!r.integer(delay, field))
    return false;
  if (delay > max_lock_delay_ms)
    return r.fail(field, "lock-delay " + std::to_string(delay) + " above the maximum");
  return true;
}

}  // namespace

bool lock_table::load(kv::detail::reader& r) {
  std::uint64_t count = 0;
  // A lock takes at least its name's length, delay_until and two counts.
  bool ok = r.integer(last_token_, "last token") && r.count(count, 20, "lock count");
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    std::string name;
    lock l;
    std::uint32_t holders = 0;
    std::uint32_t waiters = 0;
    ok = r.string(name, "lock name") && r.integer(l.delay_until, "delay until") &&
         r.count(holders, 25, "holder count");
    if (ok && (name.empty() || (!locks_.empty() && !(locks_.rbegin()->first < name))))
      ok = r.fail("lock name", "empty or not in strictly increasing order");
    std::set<session_id> seen;
    for (std::uint32_t j = 0; ok && j < holders; ++j) {
      holder h;
      ok = r.integer(h.session, "holder session") && read_mode(r, h.mode, "holder mode") &&
           r.integer(h.token, "holder token") && read_delay(r, h.delay_ms, "holder delay");
      if (ok && (h.session == 0 || !seen.insert(h.session).second))
        ok = r.fail("holder session", "invalid or repeated session");
      if (ok && (h.token == 0 || h.token > last_token_))
        ok = r.fail("holder token", "token " + std::to_string(h.token) + " never handed out");
      if (ok && !holders_allow(l, h.mode))
        ok = r.fail("holder mode", "incompatible holders of " + name);
      if (ok)
        l.holders.push_back(h);
    }
    ok = ok && r.count(waiters, 17, "waiter count");
    for (std::uint32_t j = 0; ok && j < waiters; ++j) {
      waiter x;
      ok = r.integer(x.session, "waiter session") && read_mode(r, x.mode, "waiter mode") &&
           read_delay(r, x.delay_ms, "waiter delay");
      if (ok && (x.session == 0 || !seen.insert(x.session).second))
        ok = r.fail("waiter session", "invalid or repeated session");
      if (ok)
        l.waiters.push_back(x);
    }
    if (ok && l.holders.empty() && l.waiters.empty() && l.delay_until == 0)
      ok = r.fail("lock name", "idle lock " + name);
    if (!ok)
      break;
    for (auto& h : l.holders)
      held_[h.session].insert(name);
    for (auto& x : l.waiters)
      waiting_[x.session].insert(name);
    if (l.delay_until != 0)
      delayed_.emplace(l.delay_until, name);
    locks_.emplace_hint(locks_.end(), std::move(name), std::move(l));
  }
#ifdef BALLOT_MUTANT_LOCK_TOKEN_FROM_HOLDERS
  // The counter rebuilt from the holders instead of the one saved.
  last_token_ = 0;
  for (auto& [name, l] : locks_)
    for (auto& h : l.holders)
      last_token_ = std::max(last_token_, h.token);
#endif
  return ok;
}

}  // namespace ballot::lock
