#include "actors/lock/lock_client.hpp"

#include "actors/lock/acquire_waiter.hpp"
#include "actors/lock/lock_client_impl.hpp"
#include "actors/lock/session_keeper.hpp"

namespace ballot::lock {

using detail::answer;
using detail::clock_type;
using detail::decode_answer;
using detail::fail;
using detail::millis;
using detail::min_poll;
using detail::to_call_result;

const char* to_string(call_status status) {
  switch (status) {
    case call_status::ok:
      return "ok";
    case call_status::busy:
      return "busy";
    case call_status::timed_out:
      return "timed_out";
    case call_status::already_held:
      return "already_held";
    case call_status::not_held:
      return "not_held";
    case call_status::stale:
      return "stale";
    case call_status::not_found:
      return "not_found";
    case call_status::version_mismatch:
      return "version_mismatch";
    case call_status::compacted:
      return "compacted";
    case call_status::session_lost:
      return "session_lost";
    case call_status::unavailable:
      return "unavailable";
    case call_status::bad_request:
      return "bad_request";
    case call_status::expired:
      return "expired";
  }
  return "unknown";
}

// -- session --------------------------------------------------------------------

struct session::impl {
  impl(std::shared_ptr<lock_client::impl> client, session_id id, const keeper_config& timing,
       clock_type::time_point open_sent, std::chrono::milliseconds lock_delay)
      : client(std::move(client)),
        id(id),
        ttl(timing.ttl),
        lock_delay(lock_delay),
        caller(this->client->new_caller()),
        keeper(timing, open_sent) {}

  // -- loss and its callbacks

  /// Marks the session lost (once); the callbacks run in `fire`, outside any
  /// lock, after the call that found the loss let go of `call_mtx`.
  /// `service_says`: the service answered that the session is gone, which
  /// the keeper hears too (it is then expired for good).
  void mark_lost(const std::string& why, bool service_says = false) {
    std::lock_guard<std::mutex> guard{mtx};
    if (service_says) {
      gone = true;
      keeper.gone(clock_type::now());
    }
    lose_locked(why);
  }

  void lose_locked(const std::string& why) {
    if (lost || closed)
      return;
    lost = true;
    reason = why;
    for (auto& [key, cb] : listeners)
      if (cb)
        pending.emplace_back(cb);
    listeners.clear();
    stop_keeper = true;
    cv.notify_all();
  }

  /// Whether the session is lost, by the keeper's rule at `now` (under
  /// `mtx`): the moment the keeper says expired is the moment of loss, for
  /// every caller, whether or not the keep-alive thread has woken up yet.
  bool lost_locked(clock_type::time_point now) {
    if (!lost && !closed && keeper.health(now) == session_health::expired)
      lose_locked(expiry_reason());
    return lost;
  }

  std::string expiry_reason() const {
    auto ttl_ms = std::to_string(ttl.count()) + " ms";
    if (!keeper.sending())
      return "keep-alives were stopped and the " + ttl_ms + " TTL passed";
    return "no keep-alive of session " + std::to_string(id) + " was confirmed within its " +
           ttl_ms + " TTL" + (last_failure.empty() ? "" : " (" + last_failure + ")");
  }

  void fire() {
    std::vector<std::shared_ptr<lost_callback>> now;
    std::string why;
    {
      std::lock_guard<std::mutex> guard{mtx};
      now.swap(pending);
      why = reason;
    }
    for (auto& cb : now)
      (*cb)(why);
  }

  call_result lost_result() {
    std::lock_guard<std::mutex> guard{mtx};
    if (closed)
      return fail(call_status::session_lost, "the session is closed");
    return fail(call_status::session_lost, "the session is lost: " + reason);
  }

  bool usable() {
    std::lock_guard<std::mutex> guard{mtx};
    return !lost_locked(clock_type::now()) && !closed;
  }

  session_health health() {
    std::lock_guard<std::mutex> guard{mtx};
    if (lost_locked(clock_type::now()) || closed)
      return session_health::expired;
    return keeper.health(clock_type::now());
  }

  // -- calls

  /// Proposes `cmd` (whose `now` the leader stamps) and decodes the answer;
  /// a no_session answer marks the session lost.
  answer propose(const command& cmd, clock_type::time_point deadline) {
    auto a = decode_answer(client->propose(*caller, encode(cmd), deadline));
    if (a.ok && a.res.code == result_code::no_session)
      mark_lost("the service no longer knows session " + std::to_string(id) + " (it expired)",
                true);
    return a;
  }

  answer propose(const command& cmd) { return propose(cmd, client->deadline()); }

  /// The result of `fn` (run under `call_mtx`), then the loss callbacks.
  template <class F>
  call_result call(F fn) {
    call_result out;
    {
      std::lock_guard<std::mutex> guard{call_mtx};
      out = usable() ? fn() : lost_result();
    }
    fire();
    return out;
  }

  /// What lock_info says about this session and `name`.
  struct standing {
    bool known = false;  ///< false: the read failed (`failure`)
    call_result failure;
    std::uint64_t token = 0;  ///< != 0: held with this token
    bool waiting = false;
  };

  standing where(const std::string& name) {
    standing out;
    auto a = decode_answer(caller->read(encode(query{lock_info{name}}), client->deadline()));
    if (!a.ok) {
      out.failure = a.failure;
      return out;
    }
    out.known = true;
    for (auto& h : a.res.holders)
      if (h.session == id)
        out.token = h.token;
    for (auto& w : a.res.waiters)
      if (w.session == id)
        out.waiting = true;
    return out;
  }

  call_result acquire_now(const std::string& name, lock_mode mode) {
    auto a = propose(acquire{0, id, name, mode, false, static_cast<time_ms>(lock_delay.count())});
    if (!a.ok)
      return a.failure;
    return to_call_result(a.res);
  }

  /// The waiter's core for a lock() of `wait` (at least 1 ms), sent now.
  acquire_waiter new_waiter(caf::timespan wait) const {
    waiter_config cfg;
    cfg.wait = std::max<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(wait), std::chrono::milliseconds(1));
    cfg.first_look = std::chrono::duration_cast<std::chrono::milliseconds>(min_poll);
    cfg.max_look =
      std::max(cfg.first_look,
               std::chrono::duration_cast<std::chrono::milliseconds>(client->opts.poll_interval));
    return acquire_waiter{cfg, clock_type::now()};
  }

  /// lock(): the acquire, then the waiter's looks and withdraw (see
  /// acquire_waiter.hpp for the rules).
  call_result acquire_waiting(const std::string& name, lock_mode mode, caf::timespan wait) {
    auto w = new_waiter(wait);
    auto a = propose(acquire{0, id, name, mode, true, static_cast<time_ms>(lock_delay.count())});
    if (!a.ok)
      return a.failure;
    w.acquired(a.res.code, a.res.token, clock_type::now());
    if (!w.waiting())
      return to_call_result(a.res);  // already_held keeps its own status
    // Queued: the grant comes with somebody else's command (a release, an
    // expiry); the waiter looks for it in the lock's holders.
    call_result failure;
    while (!w.finished()) {
      if (!usable())
        return lost_result();
      auto now = clock_type::now();
      auto req = w.due(now);
      if (req == waiter_request::look) {
        auto s = where(name);
        if (s.known)
          w.looked(lock_standing{s.token, s.waiting}, clock_type::now());
        else
          w.look_failed(clock_type::now());
        if (!s.known)
          failure = s.failure;
      } else if (req == waiter_request::withdraw) {
        auto c = propose(cancel_wait{0, id, name});
        if (c.ok)
          w.withdrawn(c.res.code, clock_type::now());
        else
          w.withdraw_failed(clock_type::now());
        if (!c.ok)
          failure = c.failure;
      } else if (auto wake = w.next_wake()) {
        std::unique_lock<std::mutex> guard{mtx};
        cv.wait_until(guard, *wake, [&] { return lost || closed; });
      } else {
        break;  // cannot happen: nothing is in flight between the calls above
      }
    }
    return wait_result(w, name, wait, failure);
  }

  /// What lock() returns for the waiter's outcome; `last`: the answer (or
  /// failure) of the last request, for the messages.
  call_result wait_result(const acquire_waiter& w, const std::string& name, caf::timespan wait,
                          const call_result& last) {
    switch (w.outcome()) {
      case wait_outcome::granted: {
        call_result ok;
        ok.token = w.token();
        return ok;
      }
      case wait_outcome::timed_out:
        return fail(call_status::timed_out,
                    "not granted within " + millis(wait) + "; the wait was withdrawn");
      case wait_outcome::dropped:
        // Neither holding nor waiting: only the session's end does that.
        mark_lost("the service dropped session " + std::to_string(id) + "'s wait for " + name);
        return lost_result();
      case wait_outcome::session_lost:
        mark_lost("the service no longer knows session " + std::to_string(id), true);
        return lost_result();
      case wait_outcome::uncertain: {
        auto out =
          last.status == call_status::ok ? fail(call_status::unavailable, "no answer") : last;
        out.message += "; the wait for " + name + " may still be queued (unlock withdraws it)";
        return out;
      }
      default:
        return fail(call_status::bad_request, std::string{"the wait for "} + name + " ended " +
                                                to_string(w.outcome()) + " (" +
                                                lock::to_string(w.refusal()) + ")");
    }
  }

  call_result release_or_withdraw(const std::string& name) {
    auto a = propose(release{0, id, name});
    if (!a.ok)
      return a.failure;
    if (a.res.code != result_code::not_held)
      return to_call_result(a.res);
    // Not held: a wait left behind by a lock() that could not cancel it?
    auto c = propose(cancel_wait{0, id, name});
    if (!c.ok)
      return c.failure;
    auto out = to_call_result(c.res);
    if (out.status == call_status::not_held)
      out.message = "session " + std::to_string(id) + " neither holds nor waits for " + name;
    return out;
  }

  call_result close_now() {
    halt_keeper();
    auto a = propose(close_session{0, id});
    if (!a.ok)
      return a.failure;
    auto out = to_call_result(a.res);
    if (a.res.code == result_code::ok) {
      std::lock_guard<std::mutex> guard{mtx};
      closed = true;
      listeners.clear();
      cv.notify_all();
    }
    return out;
  }

  // -- keep-alive: a thin driver of the session keeper (session_keeper.hpp)

  void start_keep_alive(std::shared_ptr<impl> self) {
    keeper_thread = std::thread([self = std::move(self)] { self->keep_alive_loop(); });
  }

  /// Ends the keep-alive thread for good (the session closes or goes away).
  void halt_keeper() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      stop_keeper = true;
      shutting_down = true;
      cv.notify_all();
    }
    join_keeper();
  }

  void join_keeper() {
    std::lock_guard<std::mutex> guard{keeper_mtx};
    if (!keeper_thread.joinable())
      return;
    if (keeper_thread.get_id() == std::this_thread::get_id())
      keeper_thread.detach();  // a loss callback ends its own session: let the thread finish
    else
      keeper_thread.join();
  }

  /// What the keeper wants next: a keep-alive (`ticket`), or a wait until
  /// `wake`; `done` once there is nothing left to keep.
  struct step {
    bool done = false;
    std::optional<std::uint64_t> ticket;
    clock_type::time_point wake;
    clock_type::time_point expires;
  };

  step next_step() {
    std::lock_guard<std::mutex> guard{mtx};
    step out;
    auto now = clock_type::now();
    if (shutting_down || lost_locked(now) || closed) {
      out.done = true;
      return out;
    }
    out.ticket = keeper.send_due(now);
    out.expires = keeper.expires_at();
    // Not expired (checked above), so there is a next moment.
    out.wake = keeper.next_wake(now).value_or(out.expires);
    return out;
  }

  /// One keep-alive, bounded by the lease the keeper knows of (after it the
  /// session may be gone whatever the answer); group_caller follows the
  /// leader and moves past replicas that do not answer meanwhile.
  void send_keep_alive(actors::group_caller& own, std::uint64_t ticket,
                       clock_type::time_point expires) {
    auto deadline = std::max(expires, clock_type::now() + std::chrono::milliseconds(1));
    auto a = decode_answer(
      client->propose(own, encode(command{keep_alive{0, id}}), deadline, &stop_keeper));
    if (a.ok && a.res.code == result_code::no_session) {
      mark_lost("the service expired session " + std::to_string(id), true);
      return;
    }
    std::lock_guard<std::mutex> guard{mtx};
    if (a.ok && a.res.code == result_code::ok) {
      keeper.confirmed(ticket, clock_type::now());
      return;
    }
    keeper.unanswered(ticket, clock_type::now());
    last_failure =
      a.ok ? std::string{"bad answer "} + lock::to_string(a.res.code) : a.failure.message;
  }

  void keep_alive_loop() {
    auto own = client->new_caller();
    for (auto s = next_step(); !s.done; s = next_step()) {
      if (s.ticket) {
        send_keep_alive(*own, *s.ticket, s.expires);
        continue;
      }
      std::unique_lock<std::mutex> guard{mtx};
      cv.wait_until(guard, s.wake, [&] { return shutting_down || lost || closed || rethink; });
      rethink = false;
    }
    fire();  // the callbacks of a loss found above
  }

  std::shared_ptr<lock_client::impl> client;
  session_id id;
  std::chrono::milliseconds ttl;
  std::chrono::milliseconds lock_delay;
  /// Serializes the user's calls on `caller`.
  std::mutex call_mtx;
  std::unique_ptr<actors::group_caller> caller;

  /// Guards the flags, the listeners and the waits below.
  mutable std::mutex mtx;
  std::condition_variable cv;
  bool lost = false;
  /// The service said the session no longer exists (not just: no answer).
  bool gone = false;
  bool closed = false;
  bool shutting_down = false;
  /// The keeper's plan changed (keep-alives stopped): the thread looks again.
  bool rethink = false;
  std::string reason;
  std::map<std::uint64_t, std::shared_ptr<lost_callback>> listeners;
  std::uint64_t next_listener = 0;
  std::vector<std::shared_ptr<lost_callback>> pending;
  std::atomic<bool> stop_keeper{false};

  /// The lease's rules: when keep-alives go out, jeopardy, expiry (under `mtx`).
  session_keeper keeper;
  /// Why the last keep-alive went unanswered, for the loss's reason.
  std::string last_failure;
  std::mutex keeper_mtx;
  std::thread keeper_thread;
};

session::session(std::shared_ptr<impl> state) : impl_(std::move(state)) {}

session::~session() {
  if (!impl_)
    return;
  bool try_close = false;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    try_close = !impl_->closed && !impl_->gone;
  }
  // Even a session lost for want of confirmed keep-alives may still exist:
  // closing it frees its locks now rather than after its TTL.
  if (try_close) {
    std::lock_guard<std::mutex> guard{impl_->call_mtx};
    impl_->close_now();
  }
  impl_->halt_keeper();
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->pending.clear();  // nobody is interested any more
}

session_id session::id() const {
  return impl_->id;
}

std::chrono::milliseconds session::ttl() const {
  return impl_->ttl;
}

bool session::lost() const {
  bool out = false;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    out = impl_->lost_locked(clock_type::now());
  }
  impl_->fire();
  return out;
}

session_health session::health() const {
  auto out = impl_->health();
  impl_->fire();
  return out;
}

bool session::in_jeopardy() const {
  return health() != session_health::healthy;
}

const keeper_config& session::timing() const {
  return impl_->keeper.config();  // never changes after open
}

std::string session::lost_reason() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->lost_locked(clock_type::now());
  return impl_->reason;
}

bool session::closed() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->closed;
}

call_result session::close() {
  return impl_->call([&] { return impl_->close_now(); });
}

call_result session::try_lock(const std::string& name, lock_mode mode) {
  return impl_->call([&] { return impl_->acquire_now(name, mode); });
}

call_result session::lock(const std::string& name, lock_mode mode, caf::timespan wait_timeout) {
  return impl_->call([&] { return impl_->acquire_waiting(name, mode, wait_timeout); });
}

call_result session::unlock(const std::string& name) {
  return impl_->call([&] { return impl_->release_or_withdraw(name); });
}

call_result session::put(const std::string& key, const std::string& value) {
  return impl_->call([&]() -> call_result {
    auto a = impl_->propose(put_key{0, key, value, impl_->id});
    return a.ok ? to_call_result(a.res) : a.failure;
  });
}

std::shared_ptr<void> session::on_lost(lost_callback cb) {
  auto shared = std::make_shared<lost_callback>(std::move(cb));
  std::uint64_t key = 0;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    if (impl_->lost) {
      impl_->pending.push_back(shared);
    } else {
      key = ++impl_->next_listener;
      impl_->listeners.emplace(key, shared);
    }
  }
  impl_->fire();
  std::weak_ptr<impl> weak = impl_;
  // The handle: dropping it unregisters the callback (if the session lives).
  return std::shared_ptr<void>(nullptr, [weak, key](void*) {
    if (auto st = weak.lock(); st && key != 0) {
      std::lock_guard<std::mutex> guard{st->mtx};
      st->listeners.erase(key);
    }
  });
}

void session::stop_keep_alive() {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->keeper.stop_sending();
  impl_->stop_keeper = true;  // abandons a keep-alive in flight
  impl_->rethink = true;
  impl_->cv.notify_all();
}

lock_client::lock_client(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
                         client_options opts)
    : impl_(std::make_shared<impl>(sys, std::move(replicas), client_id, opts)) {}

lock_client::~lock_client() = default;

const client_options& lock_client::options() const {
  return impl_->opts;
}

lock_client::opened lock_client::open_session(std::chrono::milliseconds ttl, session_options opts) {
  opened out;
  if (ttl.count() <= 0 || static_cast<time_ms>(ttl.count()) > max_session_ttl_ms) {
    out.result =
      fail(call_status::bad_request, "ttl " + std::to_string(ttl.count()) + " ms outside 1.." +
                                       std::to_string(max_session_ttl_ms));
    return out;
  }
  if (opts.lock_delay.count() < 0 ||
      static_cast<time_ms>(opts.lock_delay.count()) > max_lock_delay_ms) {
    out.result =
      fail(call_status::bad_request, "lock_delay " + std::to_string(opts.lock_delay.count()) +
                                       " ms outside 0.." + std::to_string(max_lock_delay_ms));
    return out;
  }
  // One keep-alive at a time: the thread blocks on it, and group_caller
  // already moves past a replica that does not answer.
  auto timing = keeper_config::defaults_for(ttl);
  timing.max_in_flight = 1;
  if (auto why = validate(timing); !why.empty()) {
    out.result = fail(call_status::bad_request, "ttl " + std::to_string(ttl.count()) +
                                                  " ms is too short to keep alive: " + why);
    return out;
  }
  // Read before the request goes out: the service's deadline is at least
  // this + TTL, whenever it applied the open.
  auto sent = clock_type::now();
  answer a;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    a = decode_answer(impl_->propose(
      impl_->caller, encode(command{lock::open_session{0, static_cast<time_ms>(ttl.count())}}),
      impl_->deadline()));
  }
  if (!a.ok) {
    out.result = a.failure;
    return out;
  }
  if (a.res.code != result_code::ok) {
    out.result = to_call_result(a.res);
    return out;
  }
  auto st = std::make_shared<session::impl>(impl_, a.res.session, timing, sent, opts.lock_delay);
  if (opts.on_lost)
    st->listeners.emplace(++st->next_listener,
                          std::make_shared<lost_callback>(std::move(opts.on_lost)));
  st->start_keep_alive(st);
  out.session.reset(new lock::session(std::move(st)));
  return out;
}

call_result lock_client::check_token(const std::string& name, std::uint64_t token) {
  auto a = impl_->read(query{lock::check_token{name, token}});
  if (!a.ok)
    return a.failure;
  auto out = to_call_result(a.res);
  out.token = token;
  if (out.status == call_status::stale)
    out.message = "token " + std::to_string(token) + " is not held on " + name;
  return out;
}

call_result lock_client::get(const std::string& key) {
  auto a = impl_->read(query{get_key{key}});
  return a.ok ? to_call_result(a.res) : a.failure;
}

call_result lock_client::del(const std::string& key, std::optional<std::uint64_t> if_version) {
  // Through the key/value API: the same keys, and it has the condition.
  actors::group_answer a;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    a = impl_->propose(impl_->caller, kv::encode(kv::request{kv::del_request{key, if_version}}),
                       impl_->deadline());
  }
  if (!a.ok)
    return detail::failure_of(a);
  kv::result r;
  std::string error;
  if (!kv::decode(a.result, r, error))
    return fail(call_status::bad_request, "undecodable answer: " + error);
  call_result out;
  out.revision = r.version;
  out.message = r.message;
  switch (r.code) {
    case kv::result_code::ok:
      break;
    case kv::result_code::not_found:
      out.status = call_status::not_found;
      break;
    case kv::result_code::version_mismatch:
      out.status = call_status::version_mismatch;
      break;
    default:
      out.status = call_status::bad_request;
      break;
  }
  return out;
}

lock_state lock_client::describe(const std::string& name) {
  lock_state out;
  auto a = impl_->read(query{lock_info{name}});
  if (!a.ok) {
    out.result = a.failure;
    return out;
  }
  out.result = to_call_result(a.res);
  out.holders = std::move(a.res.holders);
  out.waiters = std::move(a.res.waiters);
  out.delay_until = a.res.deadline;
  return out;
}

}  // namespace ballot::lock
