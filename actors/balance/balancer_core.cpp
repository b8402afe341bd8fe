#include "actors/balance/balancer_core.hpp"

#include <algorithm>
#include <stdexcept>

#include "actors/balance/ejection.hpp"
#include "actors/balance/retry_budget.hpp"
#include "actors/balance/slow_start.hpp"

namespace ballot::balance {

namespace {

bool contains(const std::vector<backend_id>& xs, backend_id x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

std::string ms(millis d) {
  return std::to_string(d.count()) + " ms";
}

bool hashing(policy_kind k) {
  return k == policy_kind::ring_hash || k == policy_kind::maglev;
}

}  // namespace

/// What the policy may see: the balancer's load, with the backends a retry
/// must avoid marked unavailable.
class balancer_core::view final : public load_view {
 public:
  view(const balancer_core& core, const std::vector<backend_id>* exclude)
      : core_(core), exclude_(exclude) {}

  std::uint32_t outstanding(backend_id id) const override { return core_.outstanding(id); }

  bool available(backend_id id) const override {
    auto* b = core_.find(id);
    if (b == nullptr || !core_.usable(*b) || !core_.has_capacity(*b))
      return false;
    return exclude_ == nullptr || !contains(*exclude_, id);
  }

 private:
  const balancer_core& core_;
  const std::vector<backend_id>* exclude_;
};

balancer_core::balancer_core(core_config cfg, std::unique_ptr<policy> pol,
                             const std::vector<std::pair<backend_id, backend_options>>& initial)
    : cfg_(cfg), policy_(std::move(pol)) {
  if (!policy_)
    throw std::invalid_argument("balancer_core: no policy");
  if (cfg_.max_attempts == 0)
    cfg_.max_attempts = 1;
  weight_scale_ = hashing(policy_->kind()) ? 1 : slow_start_scale;
  for (auto& [id, opts] : initial) {
    if (find(id) != nullptr)
      throw std::invalid_argument("balancer_core: backend id " + std::to_string(id) +
                                  " given twice");
    backend_entry b;
    b.id = id;
    b.name = opts.name;
    b.weight = std::max<std::uint32_t>(opts.weight, 1);
    b.max_outstanding = opts.max_outstanding.value_or(cfg_.max_outstanding_per_backend);
    backends_.emplace(id, std::move(b));
  }
  refresh_policy(millis{0});
}

// -- lookups and descriptions ------------------------------------------------

balancer_core::backend_entry* balancer_core::find(backend_id id) {
  auto it = backends_.find(id);
  return it == backends_.end() ? nullptr : &it->second;
}

const balancer_core::backend_entry* balancer_core::find(backend_id id) const {
  auto it = backends_.find(id);
  return it == backends_.end() ? nullptr : &it->second;
}

bool balancer_core::usable(const backend_entry& b) const {
  return b.state == lifecycle::up && !b.ejected;
}

bool balancer_core::has_capacity(const backend_entry& b) const {
  return b.max_outstanding == 0 || b.outstanding < b.max_outstanding;
}

std::string balancer_core::describe(const backend_entry& b) const {
  if (b.name.empty())
    return "backend #" + std::to_string(b.id);
  return "backend '" + b.name + "'";
}

std::string balancer_core::describe(backend_id id) const {
  auto* b = find(id);
  return b != nullptr ? describe(*b) : "backend #" + std::to_string(id);
}

std::uint32_t balancer_core::outstanding(backend_id id) const {
  auto* b = find(id);
  return b != nullptr ? b->outstanding : 0;
}

bool balancer_core::is_ejected(backend_id id) const {
  auto* b = find(id);
  return b != nullptr && b->ejected;
}

std::uint32_t balancer_core::effective_weight(backend_id id) const {
  auto* b = find(id);
  return b != nullptr && b->state == lifecycle::up ? b->effective_weight : 0;
}

std::string balancer_core::no_backends_reason() const {
  std::size_t up = 0, ejected = 0, down = 0;
  for (auto& [id, b] : backends_) {
    if (b.state == lifecycle::up) {
      ++up;
      ejected += b.ejected ? 1 : 0;
    } else if (b.state == lifecycle::down) {
      ++down;
    }
  }
  if (up == 0 && down == 0)
    return "no backend is registered";
  if (up == 0)
    return "all " + std::to_string(down) + " backends are down (their workers died)";
  std::string out = "all " + std::to_string(up) + " live backends are ejected as outliers";
  if (down > 0)
    out += " and " + std::to_string(down) + " are down";
  return out;
}

std::string balancer_core::overloaded_reason() const {
  std::size_t usable_now = 0;
  for (auto& [id, b] : backends_)
    usable_now += usable(b) ? 1 : 0;
  std::string out =
    "all " + std::to_string(usable_now) + " available backends are at their concurrency limit";
  if (cfg_.max_outstanding_per_backend != 0)
    out += " (" + std::to_string(cfg_.max_outstanding_per_backend) + " requests each by default)";
  if (cfg_.max_queue == 0)
    return out + " and queueing is disabled";
  return out + " and the queue is full (" + std::to_string(queue_.size()) + " waiting, bound " +
         std::to_string(cfg_.max_queue) + ")";
}

// -- requests -----------------------------------------------------------------

void balancer_core::submit(request_id id, std::uint64_t key, bool idempotent, millis now) {
  if (requests_.count(id) != 0)
    throw std::invalid_argument("balancer_core: request id " + std::to_string(id) +
                                " is still open");
  auto& req = requests_[id];
  req.key = key;
  req.idempotent = idempotent;
  req.submitted = now;
  req.deadline = now + cfg_.request_timeout;
  ++counters_.submitted;
  if (!queue_.empty()) {
    // Others wait already: no overtaking. drain() may still place it at
    // once if those ahead wait only for backends they have not tried.
    if (queue_.size() >= cfg_.max_queue) {
      complete_error(id, errc::overloaded, overloaded_reason());
    } else {
      enqueue(id, req, false);
      drain(now);
    }
    finish(now);
    return;
  }
  switch (place(id, req, now)) {
    case placement::dispatched:
      break;
    case placement::no_backends:
      complete_error(id, errc::no_backends, no_backends_reason());
      break;
    case placement::busy:
      if (queue_.size() >= cfg_.max_queue)
        complete_error(id, errc::overloaded, overloaded_reason());
      else
        enqueue(id, req, false);
      break;
  }
  finish(now);
}

void balancer_core::succeeded(request_id id, std::uint32_t attempt, millis now) {
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.backend || it->second.attempt != attempt)
    return;
  auto bid = *it->second.backend;
  it->second.backend.reset();
  --in_flight_;
  if (auto* b = find(bid)) {
    --b->outstanding;
    ++b->served;
    b->consecutive_failures = 0;
  }
  complete_ok(id, bid);
  forget_if_drained(bid);
  drain(now);
  finish(now);
}

void balancer_core::failed(request_id id, std::uint32_t attempt, const std::string& detail,
                           millis now) {
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.backend || it->second.attempt != attempt)
    return;
  fail_attempt(id, it->second, errc::worker_error, "failed: " + detail, true, now);
  drain(now);
  finish(now);
}

void balancer_core::timed_out(request_id id, std::uint32_t attempt, millis now) {
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.backend || it->second.attempt != attempt)
    return;
  auto limit = std::min(cfg_.attempt_timeout, it->second.deadline - it->second.submitted);
  fail_attempt(id, it->second, errc::timeout, "got no reply within " + ms(limit), true, now);
  drain(now);
  finish(now);
}

void balancer_core::deadline_expired(request_id id, millis now) {
  auto it = requests_.find(id);
  if (it == requests_.end())
    return;
  auto& req = it->second;
  if (!req.queued) {
    // In flight: its attempt's timeout is capped at the deadline. Should it
    // queue again (a retry), it needs a new timer.
    req.deadline_armed = false;
    return;
  }
  queue_.erase(std::find(queue_.begin(), queue_.end(), id));
  std::string what = "timed out after " + ms(now - req.submitted) +
                     " waiting in the queue for a backend with capacity";
  if (req.attempt > 0)
    what += " (after " + std::to_string(req.attempt) + " failed attempts)";
  complete_error(id, errc::timeout, what + "; request timeout " + ms(cfg_.request_timeout));
  drain(now);
  finish(now);
}

balancer_core::placement balancer_core::place(request_id id, request_entry& req, millis now) {
  bool any_usable = false;
  bool untried_usable = false;
  for (auto& [bid, b] : backends_) {
    if (!usable(b))
      continue;
    any_usable = true;
    untried_usable = untried_usable || !contains(req.tried, bid);
  }
  if (!any_usable)
    return placement::no_backends;
  // A retry goes to a backend it has not tried, and waits for one if they
  // are all busy; only when every usable backend was tried may it go back.
  const std::vector<backend_id>* exclude = untried_usable ? &req.tried : nullptr;
  view v{*this, exclude};
  auto pick = policy_->pick(req.key, v);
  if (!pick || !v.available(*pick))
    return placement::busy;
  send(id, req, *find(*pick), now);
  return placement::dispatched;
}

void balancer_core::send(request_id id, request_entry& req, backend_entry& b, millis now) {
  ++req.attempt;
  req.backend = b.id;
  req.queued = false;
  req.tried.push_back(b.id);
  ++b.outstanding;
  ++in_flight_;
  if (req.attempt > 1)
    ++counters_.retries;
  auto timeout_at = std::min(now + cfg_.attempt_timeout, req.deadline);
  actions_.push_back(dispatch{id, b.id, req.attempt, timeout_at});
}

void balancer_core::enqueue(request_id id, request_entry& req, bool front) {
  if (front)
    queue_.push_front(id);
  else
    queue_.push_back(id);
  req.queued = true;
  if (!req.deadline_armed) {
    req.deadline_armed = true;
    actions_.push_back(arm_deadline{id, req.deadline});
  }
}

void balancer_core::drain(millis now) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    auto id = *it;
    auto& req = requests_.at(id);
    if (now >= req.deadline) {
      it = queue_.erase(it);
      req.queued = false;
      complete_error(id, errc::timeout,
                     "timed out after " + ms(now - req.submitted) +
                       " waiting in the queue; request timeout " + ms(cfg_.request_timeout));
      continue;
    }
    switch (place(id, req, now)) {
      case placement::dispatched:
        it = queue_.erase(it);
        break;
      case placement::busy:
        // A first attempt that cannot go anywhere means no capacity at all:
        // nothing behind it can go either. A retry may be waiting only for
        // the backends it has not tried yet.
        if (req.tried.empty())
          return;
        ++it;
        break;
      case placement::no_backends: {
        auto reason = no_backends_reason();
        auto waiting = std::move(queue_);
        queue_.clear();
        for (auto qid : waiting) {
          requests_.at(qid).queued = false;
          complete_error(qid, errc::no_backends, reason + " (while the request was queued)");
        }
        return;
      }
    }
  }
}

void balancer_core::complete_ok(request_id id, backend_id backend) {
  auto it = requests_.find(id);
  actions_.push_back(complete{id, true, failure{}, backend, it->second.attempt});
  ++counters_.succeeded;
  if (it->second.retrying)
    --retries_active_;
  requests_.erase(it);
}

void balancer_core::complete_error(request_id id, errc code, std::string message) {
  auto it = requests_.find(id);
  backend_id last = it->second.tried.empty() ? 0 : it->second.tried.back();
  actions_.push_back(
    complete{id, false, failure{code, std::move(message)}, last, it->second.attempt});
  switch (code) {
    case errc::overloaded:
      ++counters_.overloaded;
      break;
    case errc::no_backends:
      ++counters_.no_backends;
      break;
    case errc::timeout:
      ++counters_.timeouts;
      break;
    case errc::worker_error:
      ++counters_.worker_errors;
      break;
    case errc::worker_down:
      ++counters_.worker_down;
      break;
    case errc::retry_budget_exhausted:
      ++counters_.budget_exhausted;
      break;
    case errc::shutdown:
      break;
  }
  if (it->second.retrying)
    --retries_active_;
  requests_.erase(it);
}

void balancer_core::fail_attempt(request_id id, request_entry& req, errc cause,
                                 const std::string& what, bool counts_as_error, millis now) {
  auto bid = *req.backend;
  req.backend.reset();
  --in_flight_;
  std::string where =
    "attempt " + std::to_string(req.attempt) + " on " + describe(bid) + " " + what;
  if (auto* b = find(bid)) {
    --b->outstanding;
    ++b->failures;
    if (counts_as_error)
      record_failure(*b, now);
  }
  forget_if_drained(bid);
  if (!req.idempotent) {
    complete_error(id, cause, where + "; not retried: the request is not idempotent");
    return;
  }
  if (req.attempt >= cfg_.max_attempts) {
    complete_error(
      id, cause, where + "; no attempts left (" + std::to_string(cfg_.max_attempts) + " allowed)");
    return;
  }
  if (now >= req.deadline) {
    complete_error(id, errc::timeout,
                   where + "; the request timeout of " + ms(cfg_.request_timeout) + " has passed");
    return;
  }
  if (!req.retrying) {
    auto limit =
      retry_limit(requests_.size(), cfg_.retry_budget_percent, cfg_.min_retry_concurrency);
    if (retries_active_ >= limit) {
      complete_error(id, errc::retry_budget_exhausted,
                     where + "; not retried: the retry budget is exhausted (" +
                       std::to_string(retries_active_) + " retries in flight, limit " +
                       std::to_string(limit) + ")");
      return;
    }
    req.retrying = true;
    ++retries_active_;
  }
  switch (place(id, req, now)) {
    case placement::dispatched:
      return;
    case placement::busy:
      // Admitted already: it goes first, even past the queue bound (the
      // retry budget bounds how many do).
      enqueue(id, req, true);
      return;
    case placement::no_backends:
      complete_error(id, cause, where + "; no backend left to retry on: " + no_backends_reason());
      return;
  }
}

void balancer_core::record_failure(backend_entry& b, millis now) {
  ++b.consecutive_failures;
  if (cfg_.consecutive_failures == 0 || b.ejected || b.state != lifecycle::up ||
      b.consecutive_failures < cfg_.consecutive_failures)
    return;
  std::size_t live = 0, ejected = 0;
  for (auto& [id, x] : backends_) {
    if (x.state != lifecycle::up)
      continue;
    ++live;
    ejected += x.ejected ? 1 : 0;
  }
  // At the share already: stays a candidate, tried again at its next failure.
  if (ejected >= max_ejected(live, cfg_.max_ejection_percent))
    return;
  b.ejected = true;
  ++b.ejections;
  b.ejected_until = now + ejection_duration(cfg_.base_ejection, cfg_.max_ejection, b.ejections);
  b.consecutive_failures = 0;
}

void balancer_core::forget_if_drained(backend_id id) {
  auto it = backends_.find(id);
  if (it != backends_.end() && it->second.state == lifecycle::removed &&
      it->second.outstanding == 0)
    backends_.erase(it);
}

// -- backends -----------------------------------------------------------------

bool balancer_core::add_backend(backend_id id, backend_options opts, millis now) {
  auto* b = find(id);
  if (b != nullptr && b->state == lifecycle::up)
    return false;
  if (b == nullptr) {
    backend_entry fresh;
    fresh.id = id;
    b = &backends_.emplace(id, std::move(fresh)).first->second;
  }
  b->name = opts.name;
  b->weight = std::max<std::uint32_t>(opts.weight, 1);
  b->max_outstanding = opts.max_outstanding.value_or(cfg_.max_outstanding_per_backend);
  b->state = lifecycle::up;
  b->ejected = false;
  b->ejections = 0;
  b->consecutive_failures = 0;
  start_slow_start(*b, now);
  refresh_policy(now);
  drain(now);
  finish(now);
  return true;
}

bool balancer_core::remove_backend(backend_id id, millis now) {
  auto* b = find(id);
  if (b == nullptr || b->state == lifecycle::removed)
    return false;
  b->state = lifecycle::removed;
  b->ejected = false;
  b->slow_start_since.reset();
  refresh_policy(now);
  forget_if_drained(id);
  drain(now);  // requests queued with nowhere left to go fail now
  finish(now);
  return true;
}

bool balancer_core::backend_down(backend_id id, millis now) {
  auto* b = find(id);
  if (b == nullptr || b->state != lifecycle::up)
    return false;
  b->state = lifecycle::down;
  // Whatever comes back is a new process: its history does not follow it.
  b->ejected = false;
  b->ejections = 0;
  b->consecutive_failures = 0;
  b->slow_start_since.reset();
  refresh_policy(now);
  std::vector<request_id> victims;
  for (auto& [rid, req] : requests_)
    if (req.backend == id)
      victims.push_back(rid);
  std::sort(victims.begin(), victims.end());  // deterministic order
  auto who = describe(id);
  for (auto rid : victims)
    fail_attempt(rid, requests_.at(rid), errc::worker_down,
                 "lost its worker: " + who + " went down with the request in flight", false, now);
  drain(now);
  finish(now);
  return true;
}

bool balancer_core::backend_up(backend_id id, millis now) {
  auto* b = find(id);
  if (b == nullptr || b->state != lifecycle::down)
    return false;
  b->state = lifecycle::up;
  start_slow_start(*b, now);
  refresh_policy(now);
  drain(now);
  finish(now);
  return true;
}

bool balancer_core::reweight(backend_id id, std::uint32_t weight, millis now) {
  auto* b = find(id);
  if (b == nullptr || b->state == lifecycle::removed)
    return false;
  b->weight = std::max<std::uint32_t>(weight, 1);
  refresh_policy(now);
  drain(now);
  finish(now);
  return true;
}

void balancer_core::tick(millis now) {
  if (next_wake_ && *next_wake_ <= now)
    next_wake_.reset();
  for (auto& [id, b] : backends_) {
    if (b.ejected && b.ejected_until <= now) {
      b.ejected = false;
      b.consecutive_failures = 0;
      start_slow_start(b, now);
    }
  }
  refresh_policy(now);
  drain(now);
  finish(now);
}

std::vector<action> balancer_core::take_actions() {
  std::vector<action> out;
  out.swap(actions_);
  return out;
}

// -- weights and wake-ups -------------------------------------------------------

bool balancer_core::slow_start_enabled() const {
  return cfg_.slow_start_window.count() > 0 && !hashing(policy_->kind());
}

void balancer_core::start_slow_start(backend_entry& b, millis now) {
  if (slow_start_enabled())
    b.slow_start_since = now;
  else
    b.slow_start_since.reset();
}

std::uint32_t balancer_core::weight_now(const backend_entry& b, millis now) const {
  auto full = std::max<std::uint32_t>(b.weight, 1) * weight_scale_;
  if (!b.slow_start_since)
    return full;
  return slow_start_weight(full, now - *b.slow_start_since, cfg_.slow_start_window,
                           cfg_.slow_start_min_percent);
}

void balancer_core::refresh_policy(millis now) {
  std::vector<backend> set;
  for (auto& [id, b] : backends_) {
    if (b.slow_start_since && now - *b.slow_start_since >= cfg_.slow_start_window)
      b.slow_start_since.reset();
    b.effective_weight = weight_now(b, now);
    if (b.state == lifecycle::up)
      set.push_back(backend{id, b.effective_weight});
  }
  bool same = pushed_once_ && set.size() == pushed_.size() &&
              std::equal(set.begin(), set.end(), pushed_.begin(),
                         [](auto& x, auto& y) { return x.id == y.id && x.weight == y.weight; });
  if (same)
    return;
  policy_->update(set);
  pushed_ = std::move(set);
  pushed_once_ = true;
}

void balancer_core::finish(millis now) {
  std::optional<millis> want;
  auto consider = [&](millis at) {
    if (!want || at < *want)
      want = at;
  };
  for (auto& [id, b] : backends_) {
    if (b.state != lifecycle::up)
      continue;
    if (b.ejected)
      consider(b.ejected_until);
    if (b.slow_start_since)
      consider(slow_start_next_step(*b.slow_start_since, cfg_.slow_start_window, now));
  }
  if (want && (!next_wake_ || *want < *next_wake_)) {
    next_wake_ = want;
    actions_.push_back(wake{*want});
  }
}

// -- stats ------------------------------------------------------------------------

core_stats balancer_core::stats() const {
  core_stats out = counters_;
  for (auto& [id, b] : backends_) {
    backend_stats s;
    s.id = id;
    s.name = b.name;
    s.weight = b.weight;
    s.effective_weight = b.state == lifecycle::up ? b.effective_weight : 0;
    s.max_outstanding = b.max_outstanding;
    s.outstanding = b.outstanding;
    s.up = b.state == lifecycle::up;
    s.ejected = b.ejected;
    s.draining = b.state == lifecycle::removed;
    s.slow_start = b.slow_start_since.has_value();
    s.ejected_until_ms = b.ejected ? b.ejected_until.count() : -1;
    s.ejections = b.ejections;
    s.consecutive_failures = b.consecutive_failures;
    s.served = b.served;
    s.failures = b.failures;
    out.backends.push_back(std::move(s));
  }
  out.queued = queue_.size();
  out.in_flight = in_flight_;
  out.retries_in_flight = retries_active_;
  return out;
}

}  // namespace ballot::balance
