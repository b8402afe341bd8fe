#include "actors/lock/acquire_waiter.hpp"

#include <algorithm>
#include <stdexcept>

namespace ballot::lock {

const char* to_string(wait_outcome o) {
  switch (o) {
    case wait_outcome::pending:
      return "pending";
    case wait_outcome::granted:
      return "granted";
    case wait_outcome::refused:
      return "refused";
    case wait_outcome::timed_out:
      return "timed_out";
    case wait_outcome::session_lost:
      return "session_lost";
    case wait_outcome::dropped:
      return "dropped";
    case wait_outcome::unavailable:
      return "unavailable";
    case wait_outcome::uncertain:
      return "uncertain";
    case wait_outcome::failed:
      return "failed";
  }
  return "unknown";
}

lock_standing standing_in(const result& info, session_id session) {
  lock_standing out;
  for (auto& h : info.holders)
    if (h.session == session)
      out.token = h.token;
  for (auto& w : info.waiters)
    if (w.session == session)
      out.waits = true;
  return out;
}

std::string validate(const waiter_config& c) {
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
  if (c.wait.count() <= 0)
    return "wait " + ms(c.wait) + " is not positive";
  if (c.first_look.count() <= 0)
    return "first_look " + ms(c.first_look) + " is not positive";
  if (c.max_look.count() < 0)
    return "max_look " + ms(c.max_look) + " is negative";
  if (c.max_look.count() > 0 && c.max_look < c.first_look)
    return "max_look " + ms(c.max_look) + " is below first_look " + ms(c.first_look);
  return {};
}

namespace {

waiter_config checked(const waiter_config& c) {
  if (auto why = validate(c); !why.empty())
    throw std::invalid_argument("acquire_waiter: " + why);
  return c;
}

}  // namespace

acquire_waiter::acquire_waiter(const waiter_config& cfg, time_point sent)
    : cfg_(checked(cfg)),
      deadline_(sent + cfg.wait),
      next_look_(time_point::max()),
      pause_(cfg.first_look) {}

void acquire_waiter::finish(wait_outcome o) {
  if (finished())
    return;
  outcome_ = o;
  in_flight_ = flight::none;
}

void acquire_waiter::schedule_look(time_point now) {
  in_flight_ = flight::none;
  if (cfg_.max_look.count() == 0) {
    next_look_ = time_point::max();
    return;
  }
  next_look_ = now + pause_;
  pause_ = std::min(pause_ * 2, cfg_.max_look);
}

void acquire_waiter::acquired(result_code code, std::uint64_t token, time_point now) {
  if (finished() || in_flight_ != flight::acquire)
    return;
  switch (code) {
    case result_code::ok:
    case result_code::already_held:
      token_ = token;
      return finish(wait_outcome::granted);
    case result_code::queued:
    case result_code::already_waiting:
      // The first look at once: a retried acquire may have been granted
      // before the driver started to listen for the grant.
      queued_ = true;
      in_flight_ = flight::none;
      next_look_ = now;
      return;
    case result_code::no_session:
      return finish(wait_outcome::session_lost);
    default:
      refusal_ = code;
      return finish(wait_outcome::refused);
  }
}

void acquire_waiter::acquire_failed(time_point) {
  if (!finished() && in_flight_ == flight::acquire)
    finish(wait_outcome::unavailable);
}

void acquire_waiter::looked(const lock_standing& s, time_point now) {
  if (finished() || (in_flight_ != flight::look && in_flight_ != flight::check))
    return;
  if (s.token != 0) {
    token_ = s.token;
    return finish(wait_outcome::granted);
  }
  if (in_flight_ == flight::look) {
    if (s.waits)
      return schedule_look(now);
    return finish(wait_outcome::dropped);
  }
  // The look after the withdraw.
  if (withdraw_unknown_)
    return finish(wait_outcome::uncertain);
  if (s.waits) {
    refusal_ = result_code::not_waiting;
    return finish(wait_outcome::failed);
  }
  finish(wait_outcome::dropped);
}

void acquire_waiter::look_failed(time_point now) {
  if (finished())
    return;
  if (in_flight_ == flight::look)
    return schedule_look(now);
  if (in_flight_ == flight::check)
    finish(wait_outcome::uncertain);
}

void acquire_waiter::withdrawn(result_code code, time_point) {
  if (finished() || in_flight_ != flight::withdraw)
    return;
  in_flight_ = flight::none;
  switch (code) {
    case result_code::ok:
      return finish(wait_outcome::timed_out);
    case result_code::no_session:
      return finish(wait_outcome::session_lost);
    case result_code::not_waiting:
      checking_ = true;  // a grant raced the withdraw: a look tells its token
      return;
    default:
      refusal_ = code;
      return finish(wait_outcome::failed);
  }
}

void acquire_waiter::withdraw_failed(time_point) {
  if (finished() || in_flight_ != flight::withdraw)
    return;
  in_flight_ = flight::none;
  withdraw_unknown_ = true;
  checking_ = true;
}

void acquire_waiter::granted(std::uint64_t token, time_point) {
  if (finished() || token == 0)
    return;
  token_ = token;
  finish(wait_outcome::granted);
}

void acquire_waiter::session_gone(time_point) {
  finish(wait_outcome::session_lost);
}

waiter_request acquire_waiter::due(time_point now) {
  if (finished() || in_flight_ != flight::none)
    return waiter_request::none;
  if (checking_) {
    checking_ = false;
    in_flight_ = flight::check;
    return waiter_request::look;
  }
  if (withdrawing_)
    return waiter_request::none;  // answered already: finished or checking
  if (!forever_ && now >= deadline_) {
    withdrawing_ = true;
    in_flight_ = flight::withdraw;
    return waiter_request::withdraw;
  }
  if (now >= next_look_) {
    in_flight_ = flight::look;
    return waiter_request::look;
  }
  return waiter_request::none;
}

std::optional<acquire_waiter::time_point> acquire_waiter::next_wake() const {
  if (finished() || in_flight_ != flight::none)
    return std::nullopt;
  if (checking_)
    return time_point::min();
  if (withdrawing_)
    return std::nullopt;
  auto at = forever_ ? next_look_ : std::min(next_look_, deadline_);
  if (at == time_point::max())
    return std::nullopt;
  return at;
}

}  // namespace ballot::lock
