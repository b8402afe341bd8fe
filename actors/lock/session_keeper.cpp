#include "actors/lock/session_keeper.hpp"

#include <algorithm>
#include <stdexcept>

namespace ballot::lock {

namespace {

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

const char* to_string(session_health h) {
  switch (h) {
    case session_health::healthy:
      return "healthy";
    case session_health::jeopardy:
      return "jeopardy";
    case session_health::expired:
      return "expired";
  }
  return "unknown";
}

keeper_config keeper_config::defaults_for(std::chrono::milliseconds ttl) {
  keeper_config c;
  c.ttl = ttl;
  c.jeopardy_margin = ttl / 4;
  c.interval = (ttl - c.jeopardy_margin) / 3;
  c.retry = std::max(std::chrono::milliseconds(1), c.interval / 4);
  return c;
}

std::string validate(const keeper_config& c) {
  using std::chrono::milliseconds;
  if (c.ttl <= milliseconds(0))
    return "ttl " + ms(c.ttl) + " is not positive";
  if (c.jeopardy_margin <= milliseconds(0) || c.jeopardy_margin >= c.ttl)
    return "jeopardy margin " + ms(c.jeopardy_margin) + " is outside (0, ttl " + ms(c.ttl) + ")";
  // A keep-alive due only at jeopardy (or later) could never keep the
  // session out of it.
  auto before_jeopardy = c.ttl - c.jeopardy_margin;
  if (c.interval <= milliseconds(0) || c.interval >= before_jeopardy)
    return "keep-alive interval " + ms(c.interval) +
           " is outside (0, ttl - margin = " + ms(before_jeopardy) + ")";
  if (c.retry <= milliseconds(0) || c.retry > c.interval)
    return "keep-alive retry " + ms(c.retry) + " is outside (0, interval " + ms(c.interval) + "]";
  if (c.max_in_flight == 0)
    return "max keep-alives in flight 0 must be at least 1";
  return {};
}

session_keeper::session_keeper(const keeper_config& cfg, time_point open_sent)
    : cfg_(cfg), anchor_(open_sent), last_sent_(open_sent), latest_now_(open_sent) {
  if (auto why = validate(cfg); !why.empty())
    throw std::invalid_argument(why);
}

session_keeper::time_point session_keeper::advance(time_point now) {
  latest_now_ = std::max(latest_now_, now);
  if (latest_now_ >= expires_at())
    expired_ = true;
  return latest_now_;
}

std::optional<session_keeper::time_point> session_keeper::next_send_at() const {
  if (expired_ || !sending_ || in_flight_.size() >= cfg_.max_in_flight)
    return std::nullopt;
  // The regular beat after the last confirmed send; while later sends are
  // unanswered, no sooner than `retry` after the newest of them.
  return std::max(anchor_ + cfg_.interval, last_sent_ + cfg_.retry);
}

std::optional<std::uint64_t> session_keeper::send_due(time_point now) {
  now = advance(now);
  auto at = next_send_at();
  if (!at || now < *at)
    return std::nullopt;
  auto ticket = next_ticket_++;
  in_flight_.emplace(ticket, now);
  last_sent_ = now;
  return ticket;
}

void session_keeper::confirmed(std::uint64_t ticket, time_point now) {
  advance(now);
  auto it = in_flight_.find(ticket);
  if (it == in_flight_.end())
    return;
  auto sent = it->second;
  in_flight_.erase(it);
  if (expired_)
    return;
  // The anchor is the send time, never the reply time: the cluster may have
  // applied the keep-alive right after it was sent and the reply may have
  // taken long to arrive.
  anchor_ = std::max(anchor_, sent);
}

void session_keeper::unanswered(std::uint64_t ticket, time_point now) {
  advance(now);
  in_flight_.erase(ticket);
}

void session_keeper::gone(time_point now) {
  advance(now);
  expired_ = true;
  gone_ = true;
  in_flight_.clear();
}

void session_keeper::stop_sending() {
  sending_ = false;
}

session_health session_keeper::health_at(time_point now) const {
  if (expired_ || now >= expires_at())
    return session_health::expired;
  if (now >= jeopardy_at())
    return session_health::jeopardy;
  return session_health::healthy;
}

session_health session_keeper::health(time_point now) const {
  return health_at(std::max(now, latest_now_));
}

std::optional<session_health> session_keeper::take_change(time_point now) {
  auto h = health_at(advance(now));
  if (h == reported_)
    return std::nullopt;
  reported_ = h;
  return h;
}

std::optional<session_keeper::time_point> session_keeper::next_wake(time_point now) const {
  now = std::max(now, latest_now_);
  auto h = health_at(now);
  if (h == session_health::expired)
    return std::nullopt;
  auto wake = h == session_health::healthy ? jeopardy_at() : expires_at();
  if (auto send = next_send_at())
    wake = std::min(wake, *send);
  return std::max(wake, now);
}

}  // namespace ballot::lock
