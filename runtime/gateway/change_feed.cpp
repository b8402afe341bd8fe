#include "runtime/gateway/change_feed.hpp"

#include <algorithm>

namespace ballot::gateway {

change_feed::change_feed(std::size_t keep_events)
    : keep_events_(std::max<std::size_t>(1, keep_events)) {}

void change_feed::publish(const service::change& c) {
  std::vector<waker> wake;
  std::vector<std::pair<grant_handler, std::optional<std::uint64_t>>> answer;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (c.reset || (!c.events.empty() && c.events.front().revision != revision_ + 1)) {
      // A snapshot replaced the state (or history was lost): what the feed
      // holds no longer connects to what follows.
      events_.clear();
      base_ = c.revision;
    } else {
      for (auto& e : c.events)
        events_.push_back(e);
      while (events_.size() > keep_events_) {
        base_ = events_.front().revision;
        events_.pop_front();
      }
    }
    revision_ = std::max(revision_, c.revision);
    for (auto it = revision_waits_.begin(); it != revision_waits_.end();) {
      if (it->second.first < revision_) {
        wake.push_back(std::move(it->second.second));
        it = revision_waits_.erase(it);
      } else {
        ++it;
      }
    }
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
  std::lock_guard<std::mutex> guard{mutex_};
  upto = std::max(after, revision_);
  if (after >= revision_)
    return true;
  if (after < base_)
    return false;
  // Events are consecutive revisions from base_ + 1: index by arithmetic.
  for (auto i = static_cast<std::size_t>(after - base_); i < events_.size(); ++i) {
    auto& e = events_[i];
    bool match = prefix ? e.key.compare(0, key.size(), key) == 0 : e.key == key;
    if (match)
      out.push_back(e);
  }
  return true;
}

std::uint64_t change_feed::on_revision(std::uint64_t after, waker wake) {
  std::unique_lock<std::mutex> guard{mutex_};
  auto id = ++next_id_;
  if (revision_ > after) {
    guard.unlock();
    wake();
    return id;
  }
  revision_waits_.emplace(id, std::make_pair(after, std::move(wake)));
  return id;
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
  revision_waits_.erase(id);
  grant_waits_.erase(id);
}

}  // namespace ballot::gateway
