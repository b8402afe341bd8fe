#include "actors/lock/election.hpp"

#include <algorithm>
#include <mutex>
#include <utility>

namespace ballot::lock {

struct election::state {
  state(std::string name, lost_callback on_lost)
      : lock_name("election/" + name),
        leader_key("election/" + name + "/leader"),
        on_lost(std::move(on_lost)) {}

  /// The session of the leadership was lost.
  void lose(const std::string& why) {
    std::uint64_t lost_term = 0;
    std::shared_ptr<void> sub;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (!leading)
        return;
      lost_term = term;
      leading = false;
      term = 0;
      sess = nullptr;
      sub = std::move(subscription);
    }
    if (on_lost)
      on_lost(lost_term, why);
  }

  const std::string lock_name;
  const std::string leader_key;
  const lost_callback on_lost;

  mutable std::mutex mtx;
  bool leading = false;
  std::uint64_t term = 0;
  session* sess = nullptr;
  /// The version of the leader key this leader wrote.
  std::uint64_t key_version = 0;
  /// Keeps the loss callback registered with `sess`.
  std::shared_ptr<void> subscription;
};

election::election(lock_client& client, std::string name, lost_callback on_lost)
    : client_(client), state_(std::make_shared<state>(std::move(name), std::move(on_lost))) {}

election::~election() {
  std::shared_ptr<void> sub;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    sub = std::move(state_->subscription);
  }
}

const std::string& election::lock_name() const {
  return state_->lock_name;
}

const std::string& election::leader_key() const {
  return state_->leader_key;
}

bool election::leading() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->leading;
}

std::uint64_t election::term() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->term;
}

call_result election::campaign(session& s, const std::string& value, caf::timespan wait_timeout) {
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    if (state_->leading && state_->sess != &s) {
      call_result r;
      r.status = call_status::bad_request;
      r.message = "this participant leads already, with another session";
      return r;
    }
  }
  std::weak_ptr<state> weak = state_;
  auto sub = s.on_lost([weak](const std::string& why) {
    if (auto st = weak.lock())
      st->lose(why);
  });
  auto got = s.lock(state_->lock_name, lock_mode::exclusive, wait_timeout);
  bool again = got.status == call_status::already_held;
  if (!got.ok() && !again)
    return got;
  // Lead first, then tell: observers see the value once the term began.
  auto put = s.put(state_->leader_key, value);
  if (!put.ok()) {
    if (put.status != call_status::session_lost && !again)
      s.unlock(state_->lock_name);  // no half-leader: let the next campaigner in
    put.token = 0;
    return put;
  }
  std::shared_ptr<void> old;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    state_->leading = true;
    state_->term = got.token;
    state_->sess = &s;
    state_->key_version = put.revision;
    old = std::move(state_->subscription);
    state_->subscription = std::move(sub);
  }
  // A loss between the grant and now found nobody leading: look again.
  if (s.lost()) {
    state_->lose(s.lost_reason());
    call_result r;
    r.status = call_status::session_lost;
    r.message = "the session was lost: " + s.lost_reason();
    return r;
  }
  call_result r = got;
  r.status = again ? call_status::already_held : call_status::ok;
  r.revision = put.revision;
  return r;
}

call_result election::resign() {
  session* s = nullptr;
  std::uint64_t version = 0;
  std::uint64_t term = 0;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    if (!state_->leading) {
      call_result r;
      r.status = call_status::not_held;
      r.message = "this participant does not lead";
      return r;
    }
    s = state_->sess;
    version = state_->key_version;
    term = state_->term;
  }
  // Only our own value: after a loss the key may already be a successor's.
  auto del = client_.del(state_->leader_key, version);
  if (del.status == call_status::unavailable || del.status == call_status::expired ||
      del.status == call_status::bad_request)
    return del;
  auto r = s->unlock(state_->lock_name);
  std::shared_ptr<void> sub;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    if (r.ok() || r.status == call_status::not_held || r.status == call_status::session_lost) {
      state_->leading = false;
      state_->term = 0;
      state_->sess = nullptr;
      sub = std::move(state_->subscription);
    }
  }
  r.token = term;
  return r;
}

call_result election::leader() {
  return client_.get(state_->leader_key);
}

election::observation election::observe(leader_callback on_change) {
  observation out;
  // Pin a revision, then read the key: watching from the later of the two
  // misses nothing (if the key changed after the pin, its version is later).
  auto pinned = client_.current_revision();
  if (!pinned.ok()) {
    out.result = pinned;
    return out;
  }
  auto now = client_.get(state_->leader_key);
  if (!now.ok() && now.status != call_status::not_found) {
    out.result = now;
    return out;
  }
  auto from = pinned.revision;
  if (now.ok())
    from = std::max(from, now.revision);
  on_change(now.ok() ? std::optional<std::string>{now.value} : std::nullopt);
  auto key = state_->leader_key;
  out.watcher = client_.watch(key, from, [key, on_change](const event& e) {
    if (e.key != key)
      return;  // a longer key with the same prefix
    on_change(e.type == event_type::put ? std::optional<std::string>{e.value} : std::nullopt);
  });
  return out;
}

}  // namespace ballot::lock
