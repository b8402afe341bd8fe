#include "runtime/client/session.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

namespace ballot::client {

namespace {
using clock_type = std::chrono::steady_clock;
}  // namespace

struct session::keeper : std::enable_shared_from_this<keeper> {
  client* c = nullptr;
  lock::session_id id = 0;
  std::chrono::milliseconds ttl{0};
  lost_handler on_lost;
  std::atomic<bool> stopped{false};
  std::atomic<bool> lost{false};
  std::atomic<clock_type::rep> last_ack{0};

  /// One keep-alive, then the next one scheduled: all on the I/O thread.
  static void beat(const std::shared_ptr<keeper>& k) {
    if (k->stopped)
      return;
    k->c->async_keep_alive(k->id, [k](const lock::result& r) {
      if (k->stopped)
        return;
      if (r.ok()) {
        k->last_ack = clock_type::now().time_since_epoch().count();
        k->next(k->ttl / 3);
      } else if (r.code == lock::result_code::no_session) {
        k->lose("session " + std::to_string(k->id) + " expired or was closed");
      } else {
        // No answer (an election, a dead node): try again soon, the
        // session's remaining time is running.
        k->next(std::max(std::chrono::milliseconds(50), k->ttl / 10));
      }
    });
  }

  void next(std::chrono::milliseconds delay) {
    c->schedule(delay, [self = shared_from_this()] { beat(self); });
  }

  void lose(const std::string& why) {
    if (lost.exchange(true))
      return;
    if (on_lost) {
      try {
        on_lost(why);
      } catch (...) {
        // A throwing handler must not take the client's I/O thread down.
      }
    }
  }
};

session::session(std::shared_ptr<keeper> k) : k_(std::move(k)) {}

std::unique_ptr<session> session::open(client& c, std::chrono::milliseconds ttl,
                                       lost_handler on_lost, lock::result* why) {
  auto r = c.open_session(ttl);
  if (!r.ok()) {
    if (why != nullptr)
      *why = std::move(r);
    return nullptr;
  }
  auto k = std::make_shared<keeper>();
  k->c = &c;
  k->id = r.session;
  k->ttl = ttl;
  k->on_lost = std::move(on_lost);
  k->last_ack = clock_type::now().time_since_epoch().count();
  k->next(ttl / 3);
  return std::unique_ptr<session>{new session{std::move(k)}};
}

session::~session() {
  if (!k_->stopped)
    close();
}

lock::session_id session::id() const {
  return k_->id;
}

bool session::lost() const {
  return k_->lost;
}

bool session::in_jeopardy() const {
  auto last = clock_type::time_point{clock_type::duration{k_->last_ack.load()}};
  return clock_type::now() - last > k_->ttl;
}

lock::result session::acquire(const std::string& name, lock::lock_mode mode,
                              std::chrono::milliseconds wait,
                              std::chrono::milliseconds lock_delay) {
  auto r = k_->c->acquire(k_->id, name, mode, wait, lock_delay);
  if (r.code == lock::result_code::no_session)
    k_->lose(r.message);
  return r;
}

lock::result session::release(const std::string& name) {
  return k_->c->release(k_->id, name);
}

lock::result session::put(const std::string& key, const std::string& value) {
  return k_->c->put_ephemeral(k_->id, key, value);
}

lock::result session::close() {
  k_->stopped = true;
  if (k_->lost)
    return lock::result::error(lock::result_code::no_session, "the session was lost already");
  return k_->c->close_session(k_->id);
}

}  // namespace ballot::client
