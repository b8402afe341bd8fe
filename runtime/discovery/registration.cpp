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

  /// The registration's thread: (re)opens the session, puts the key, waits.
  static void run(const std::shared_ptr<state>& st) {
    std::unique_ptr<client::session> s;
    std::unique_lock<std::mutex> lk{st->mu};
    while (!st->stop) {
      if (!s || st->lost) {
        st->registered = false;
        st->session = 0;
        st->lost = false;
        st->dirty = true;
        lk.unlock();
        if (s) {
          st->log("registration of " + st->key + ": session " + std::to_string(s->id()) +
                  " lost, registering again");
          s.reset();
        }
        std::weak_ptr<state> weak = st;
        lock::result why;
        s = client::session::open(
          *st->c, st->opts.ttl,
          [weak](const std::string&) {
            if (auto self = weak.lock()) {
              std::lock_guard<std::mutex> guard{self->mu};
              self->lost = true;
              self->cv.notify_all();
            }
          },
          &why);
        lk.lock();
        if (!s) {
          st->log("registration of " + st->key + ": cannot open a session (" +
                  lock::to_string(why.code) + (why.message.empty() ? "" : ": " + why.message) +
                  "), trying again");
          st->cv.wait_for(lk, st->opts.retry, [&] { return st->stop; });
          continue;
        }
        st->session = s->id();
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
        if (r.code == lock::result_code::no_session) {
          st->lost = true;
          continue;
        }
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
