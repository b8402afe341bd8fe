#include "runtime/discovery/registration.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "runtime/client/session.hpp"

namespace ballot::discovery {

struct registration::state {
  client::client* c = nullptr;
  std::string key;
  registration_options opts;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  // Guarded by mu:
  std::string value;
  bool dirty = true;  ///< the value still has to be put
  bool stop = false;
  bool lost = false;  ///< the session is gone: open another
  bool registered = false;
  lock::session_id session = 0;
  std::uint64_t puts = 0;
  /// The last health the session's keeper reported (expired: no session).
  client::session_health health = client::session_health::expired;

  std::thread thread;

  void log(const std::string& what) const {
    if (opts.log) {
      try {
        opts.log(what);
      } catch (...) {
        // A throwing logger must not stop the registration.
      }
    }
  }

  /// A session on the keeper's rules for the TTL; its loss and health
  /// changes come back here from the client's thread.
  static std::unique_ptr<client::session> open_session(const std::shared_ptr<state>& st,
                                                       lock::result& why) {
    std::weak_ptr<state> weak = st;
    auto on_lost = [weak](const std::string&) {
      if (auto self = weak.lock()) {
        std::lock_guard<std::mutex> guard{self->mu};
        self->lost = true;
        self->cv.notify_all();
      }
    };
    auto on_health = [weak](client::session_health h) {
      auto self = weak.lock();
      if (!self)
        return;
      {
        std::lock_guard<std::mutex> guard{self->mu};
        self->health = h;
      }
      if (h == client::session_health::jeopardy)
        self->log("registration of " + self->key +
                  ": no keep-alive confirmed lately, the session is in jeopardy and the key "
                  "may vanish");
    };
    return client::session::open(*st->c, lock::keeper_config::defaults_for(st->opts.ttl), on_lost,
                                 on_health, &why);
  }

  /// The registration's thread: (re)opens the session, puts the key, waits.
  static void run(const std::shared_ptr<state>& st) {
    std::unique_ptr<client::session> s;
    std::unique_lock<std::mutex> lk{st->mu};
    while (!st->stop) {
      if (!s || st->lost) {
        st->registered = false;
        st->session = 0;
        st->health = client::session_health::expired;
        st->lost = false;
        st->dirty = true;
        lk.unlock();
        if (s) {
          st->log("registration of " + st->key + ": session " + std::to_string(s->id()) +
                  " lost, registering again");
          s.reset();
        }
        lock::result why;
        s = open_session(st, why);
        lk.lock();
        if (!s) {
          st->log("registration of " + st->key + ": cannot open a session (" +
                  lock::to_string(why.code) + (why.message.empty() ? "" : ": " + why.message) +
                  "), trying again");
          st->cv.wait_for(lk, st->opts.retry, [&] { return st->stop; });
          continue;
        }
        st->session = s->id();
        st->health = client::session_health::healthy;
        continue;
      }
      if (st->dirty) {
        auto value = st->value;
        st->dirty = false;
        lk.unlock();
        auto r = s->put(st->key, value);
        lk.lock();
        if (r.ok()) {
          st->registered = true;
          ++st->puts;
          st->cv.notify_all();
          continue;
        }
        st->dirty = true;
        // The session's keeper decides whether it is lost (an answer that it
        // no longer exists is one way): its callback set `lost` already.
        if (s->lost())
          continue;
        st->log("registration of " + st->key + ": put failed (" + lock::to_string(r.code) +
                (r.message.empty() ? "" : ": " + r.message) + "), trying again");
        st->cv.wait_for(lk, st->opts.retry, [&] { return st->stop; });
        continue;
      }
      st->cv.wait(lk, [&] { return st->stop || st->lost || st->dirty; });
    }
    st->registered = false;
    st->session = 0;
    lk.unlock();
    s.reset();  // closes the session: the key is deleted with it
  }
};

registration::registration(client::client& c, std::string key, std::string value,
                           registration_options opts)
    : st_(std::make_shared<state>()) {
  st_->c = &c;
  st_->key = std::move(key);
  st_->value = std::move(value);
  st_->opts = std::move(opts);
  st_->thread = std::thread{[st = st_] { state::run(st); }};
}

registration::registration(client::client& c, const std::string& prefix, const std::string& name,
                           const member_address& address, registration_options opts)
    : registration(c, prefix + name, encode(address), std::move(opts)) {}

registration::~registration() {
  {
    std::lock_guard<std::mutex> guard{st_->mu};
    st_->stop = true;
    st_->cv.notify_all();
  }
  if (st_->thread.joinable())
    st_->thread.join();
}

bool registration::wait_registered(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lk{st_->mu};
  return st_->cv.wait_for(lk, timeout, [&] { return st_->registered; });
}

bool registration::registered() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->registered;
}

client::session_health registration::health() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->health;
}

lock::session_id registration::session() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->session;
}

std::uint64_t registration::puts() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->puts;
}

const std::string& registration::key() const {
  return st_->key;
}

void registration::update(std::string value) {
  std::lock_guard<std::mutex> guard{st_->mu};
  st_->value = std::move(value);
  st_->dirty = true;
  st_->cv.notify_all();
}

}  // namespace ballot::discovery
