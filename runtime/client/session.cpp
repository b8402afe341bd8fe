#include "runtime/client/session.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

namespace ballot::client {

namespace {
using clock_type = std::chrono::steady_clock;
}  // namespace

/// The driver: carries out the core's decisions with the client's timers and
/// asynchronous keep-alives. Every decision is taken under `mu`; callbacks
/// and calls into the client run outside it.
struct session::keeper : std::enable_shared_from_this<keeper> {
  client* c = nullptr;
  lock::session_id id = 0;
  lost_handler on_lost;
  health_handler on_health;
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::optional<session_keeper> core;
  /// Only the newest scheduled tick runs: a reply reschedules at once.
  std::uint64_t timer_generation = 0;

  /// Sends what is due, reports a change of health, schedules the next
  /// tick: on the I/O thread.
  static void tick(const std::shared_ptr<keeper>& k) {
    if (k->stopped)
      return;
    auto now = clock_type::now();
    std::optional<std::uint64_t> ticket;
    std::optional<session_health> change;
    std::optional<clock_type::time_point> wake;
    std::uint64_t generation = 0;
    {
      std::lock_guard<std::mutex> guard{k->mu};
      ticket = k->core->send_due(now);
      change = k->core->take_change(now);
      wake = k->core->next_wake(now);
      generation = ++k->timer_generation;
    }
    if (ticket)
      k->c->async_keep_alive(k->id, [k, t = *ticket](const lock::result& r) { k->answer(t, r); });
    if (change)
      k->report(*change);
    if (!wake)
      return;  // expired: nothing more to do
    // Rounded up: a timer that fires early finds nothing due and spins.
    auto delay = std::chrono::ceil<std::chrono::milliseconds>(*wake - now);
    delay = std::max(delay, std::chrono::milliseconds(1));
    k->c->schedule(delay, [k, generation] {
      {
        std::lock_guard<std::mutex> guard{k->mu};
        if (generation != k->timer_generation)
          return;
      }
      tick(k);
    });
  }

  void answer(std::uint64_t ticket, const lock::result& r) {
    if (stopped)
      return;
    auto now = clock_type::now();
    {
      std::lock_guard<std::mutex> guard{mu};
      if (r.ok())
        core->confirmed(ticket, now);
      else if (r.code == lock::result_code::no_session)
        core->gone(now);
      else
        core->unanswered(ticket, now);  // no answer in time, overloaded, ...
    }
    tick(shared_from_this());
  }

  /// The cluster said the session is gone (from any thread).
  void gone() {
    std::optional<session_health> change;
    {
      std::lock_guard<std::mutex> guard{mu};
      auto now = clock_type::now();
      core->gone(now);
      change = core->take_change(now);
    }
    if (change)
      report(*change);
  }

  void report(session_health h) {
    // A throwing handler must not take the client's I/O thread down.
    if (on_health) {
      try {
        on_health(h);
      } catch (...) {
      }
    }
    if (h != session_health::expired || !on_lost)
      return;
    bool by_cluster = false;
    std::chrono::milliseconds ttl{0};
    {
      std::lock_guard<std::mutex> guard{mu};
      by_cluster = core->gone_by_cluster();
      ttl = core->config().ttl;
    }
    try {
      on_lost(by_cluster ? "session " + std::to_string(id) + " expired or was closed"
                         : "no keep-alive of session " + std::to_string(id) +
                             " was confirmed within its TTL of " + std::to_string(ttl.count()) +
                             " ms: it must be presumed expired");
    } catch (...) {
    }
  }

  session_health health() const {
    std::lock_guard<std::mutex> guard{mu};
    return core->health(clock_type::now());
  }
};

session::session(std::shared_ptr<keeper> k) : k_(std::move(k)) {}

std::unique_ptr<session> session::open(client& c, std::chrono::milliseconds ttl,
                                       lost_handler on_lost, lock::result* why) {
  return open(c, keeper_config::defaults_for(ttl), std::move(on_lost), nullptr, why);
}

std::unique_ptr<session> session::open(client& c, const keeper_config& timing, lost_handler on_lost,
                                       health_handler on_health, lock::result* why) {
  // Read before the request goes out: the cluster's deadline is at least
  // this + TTL, whenever it applied the open.
  auto sent = clock_type::now();
  session_keeper core{timing, sent};  // throws before anything is sent
  auto r = c.open_session(timing.ttl);
  if (!r.ok()) {
    if (why != nullptr)
      *why = std::move(r);
    return nullptr;
  }
  auto k = std::make_shared<keeper>();
  k->c = &c;
  k->id = r.session;
  k->on_lost = std::move(on_lost);
  k->on_health = std::move(on_health);
  k->core.emplace(std::move(core));
  c.schedule(std::chrono::milliseconds(0), [k] { keeper::tick(k); });
  return std::unique_ptr<session>{new session{std::move(k)}};
}

session::~session() {
  if (!k_->stopped)
    close();
}

lock::session_id session::id() const {
  return k_->id;
}

session_health session::health() const {
  return k_->health();
}

bool session::lost() const {
  return health() == session_health::expired;
}

bool session::in_jeopardy() const {
  return health() != session_health::healthy;
}

const keeper_config& session::timing() const {
  return k_->core->config();  // never changes after open
}

lock::result session::acquire(const std::string& name, lock::lock_mode mode,
                              std::chrono::milliseconds wait,
                              std::chrono::milliseconds lock_delay) {
  auto r = k_->c->acquire(k_->id, name, mode, wait, lock_delay);
  if (r.code == lock::result_code::no_session)
    k_->gone();
  return r;
}

lock::result session::release(const std::string& name) {
  auto r = k_->c->release(k_->id, name);
  if (r.code == lock::result_code::no_session)
    k_->gone();
  return r;
}

lock::result session::put(const std::string& key, const std::string& value) {
  auto r = k_->c->put_ephemeral(k_->id, key, value);
  if (r.code == lock::result_code::no_session)
    k_->gone();
  return r;
}

lock::result session::close() {
  k_->stopped = true;
  bool gone = false;
  {
    std::lock_guard<std::mutex> guard{k_->mu};
    gone = k_->core->gone_by_cluster();
  }
  if (gone)
    return lock::result::error(lock::result_code::no_session, "the session was lost already");
  // Presumed expired but not known to be: a close frees its locks at once
  // if the cluster still has it.
  return k_->c->close_session(k_->id);
}

void session::abandon() {
  k_->stopped = true;
}

}  // namespace ballot::client
