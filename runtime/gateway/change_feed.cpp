#include "runtime/gateway/change_feed.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace ballot::gateway {

namespace {

/// Removes `id` from an index of key waits.
void unindex(std::multimap<std::string, std::uint64_t, std::less<>>& index, const std::string& key,
             std::uint64_t id) {
  auto [lo, hi] = index.equal_range(key);
  for (auto it = lo; it != hi; ++it)
    if (it->second == id) {
      index.erase(it);
      return;
    }
}

}  // namespace

void change_feed::take_matching(const kv::shared_event& e, std::vector<waker>& out) {
  std::vector<std::uint64_t> ids;
  auto [lo, hi] = by_key_.equal_range(e.key);
  for (auto it = lo; it != hi; ++it)
    ids.push_back(it->second);
  // Every prefix of the key, the empty one included: a lookup each, however
  // many watches there are.
  std::string_view key{e.key};
  for (std::size_t n = 0; n <= key.size() && !by_prefix_.empty(); ++n) {
    auto [plo, phi] = by_prefix_.equal_range(key.substr(0, n));
    for (auto it = plo; it != phi; ++it)
      ids.push_back(it->second);
  }
  for (auto id : ids) {
    auto it = key_waits_.find(id);
    if (it == key_waits_.end())
      continue;
    unindex(it->second.prefix ? by_prefix_ : by_key_, it->second.key, id);
    out.push_back(std::move(it->second.wake));
    key_waits_.erase(it);
  }
}

void change_feed::take_all_key_waits(std::vector<waker>& out) {
  for (auto& [id, w] : key_waits_)
    out.push_back(std::move(w.wake));
  key_waits_.clear();
  by_key_.clear();
  by_prefix_.clear();
}

std::shared_ptr<const auth::auth_store> change_feed::auth() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return auth_;
}

void change_feed::publish(const service::change& c) {
  std::vector<waker> wake;
  std::vector<std::pair<grant_handler, std::optional<std::uint64_t>>> answer;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (c.auth)
      auth_ = c.auth;
    if (c.history)
      history_ = c.history;
    if (c.reset || (!c.events.empty() && c.events.front().revision != revision_ + 1)) {
      // A snapshot replaced the state (or changes were missed): every
      // waiting watch looks again.
      take_all_key_waits(wake);
    } else if (!key_waits_.empty()) {
      for (auto& e : c.events)
        take_matching(e, wake);
    }
    revision_ = std::max(revision_, c.revision);
    for (auto it = grant_waits_.begin(); it != grant_waits_.end();) {
      std::optional<std::optional<std::uint64_t>> outcome;
      for (auto& g : c.grants)
        if (g.session == it->second.session && g.name == it->second.name)
          outcome = g.token;
      if (!outcome &&
          std::find(c.expired.begin(), c.expired.end(), it->second.session) != c.expired.end())
        outcome = std::optional<std::uint64_t>{};
      if (outcome) {
        answer.emplace_back(std::move(it->second.done), *outcome);
        it = grant_waits_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : wake)
    w();
  for (auto& [done, token] : answer)
    done(token);
}

std::uint64_t change_feed::revision() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return revision_;
}

bool change_feed::events_since(const std::string& key, bool prefix, std::uint64_t after,
                               std::vector<kv::event>& out, std::uint64_t& upto) const {
  std::shared_ptr<const kv::event_history> history;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    history = history_;
    upto = std::max(after, revision_);
    if (!history)
      return after >= revision_;
  }
  // The history may be ahead of the last change published (the replica
  // applies, then publishes): its events are applied state all the same.
  bool whole = history->events_since(key, prefix, after, SIZE_MAX, out, upto);
  upto = std::max(upto, after);
  return whole;
}

std::uint64_t change_feed::on_revision(std::uint64_t after, waker wake) {
  // Every key starts with the empty prefix: any change wakes it.
  return on_change(after, "", true, std::move(wake));
}

std::uint64_t change_feed::on_change(std::uint64_t after, const std::string& key, bool prefix,
                                     waker wake) {
  std::unique_lock<std::mutex> guard{mutex_};
  auto id = ++next_id_;
  // Anything newer than the caller's scan: let it look again (cheap, rare).
  if (revision_ > after) {
    guard.unlock();
    wake();
    return id;
  }
  key_waits_.emplace(id, key_wait{key, prefix, std::move(wake)});
  (prefix ? by_prefix_ : by_key_).emplace(key, id);
  return id;
}

std::size_t change_feed::waiting() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return key_waits_.size() + grant_waits_.size();
}

std::uint64_t change_feed::on_grant(lock::session_id session, const std::string& name,
                                    grant_handler done) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto id = ++next_id_;
  grant_waits_.emplace(id, grant_wait{session, name, std::move(done)});
  return id;
}

void change_feed::cancel(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  grant_waits_.erase(id);
  if (auto it = key_waits_.find(id); it != key_waits_.end()) {
    unindex(it->second.prefix ? by_prefix_ : by_key_, it->second.key, id);
    key_waits_.erase(it);
  }
}

}  // namespace ballot::gateway
