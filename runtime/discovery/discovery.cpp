#include "runtime/discovery/discovery.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <utility>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "actors/balance/type_ids.hpp"

namespace ballot::discovery {

namespace {

using poke_atom = caf::atom_constant<caf::atom("discpoke")>;
using retry_atom = caf::atom_constant<caf::atom("discretry")>;

/// Replies from the balancer arrive within this (they are immediate).
constexpr auto balancer_reply_timeout = std::chrono::seconds(5);

}  // namespace

/// Shared by the discovery object, the client's I/O thread (listing and
/// watch callbacks) and the follower actor.
struct detail::discovery_state {
  client::client* c = nullptr;
  std::string prefix;
  discovery_options opts;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  // Guarded by mu:
  bool stopped = false;
  caf::actor follower;  ///< cleared when the discovery ends (no cycle)
  /// The membership from the listing and the events (I/O thread).
  member_table table;
  /// Changes for the follower, in order.
  std::deque<change> inbox;
  std::unique_ptr<client::watch_handle> watch;
  /// The current listing; callbacks of older ones are dropped.
  std::uint64_t epoch = 0;
  bool synced = false;
  std::uint64_t listings = 0;
  /// What the follower reports.
  std::map<std::string, member_status> status;

  void log(const std::string& what) const {
    if (opts.log) {
      try {
        opts.log(what);
      } catch (...) {
        // A throwing logger must not take a thread down.
      }
    }
  }

  /// Queues changes for the follower (with mu held) and tells it.
  void push(std::vector<change> changes) {
    if (changes.empty())
      return;
    for (auto& ch : changes)
      inbox.push_back(std::move(ch));
    if (follower)
      caf::anon_send(follower, poke_atom::value);
  }

  // -- listing and watching (the client's I/O thread, except the first list)

  /// Values read for one listing.
  struct listing {
    std::uint64_t revision = 0;
    std::size_t left = 0;
    bool failed = false;
    std::string why;
    std::map<std::string, member_table::listed> values;
  };

  static void list(const std::shared_ptr<discovery_state>& st) {
    std::uint64_t epoch;
    {
      std::lock_guard<std::mutex> guard{st->mu};
      if (st->stopped)
        return;
      epoch = ++st->epoch;
    }
    st->c->async_list(st->prefix, 0,
                      [st, epoch](kv::result r) { on_list(st, epoch, std::move(r)); });
  }

  static void relist_later(const std::shared_ptr<discovery_state>& st,
                           std::chrono::milliseconds delay) {
    st->c->schedule(delay, [st] { list(st); });
  }

  static bool current(const std::shared_ptr<discovery_state>& st, std::uint64_t epoch) {
    std::lock_guard<std::mutex> guard{st->mu};
    return !st->stopped && st->epoch == epoch;
  }

  static void on_list(const std::shared_ptr<discovery_state>& st, std::uint64_t epoch,
                      kv::result r) {
    if (!current(st, epoch))
      return;
    if (!r.ok()) {
      st->log("discovery of " + st->prefix + ": list failed (" + kv::to_string(r.code) +
              (r.message.empty() ? "" : ": " + r.message) + "), trying again");
      relist_later(st, st->opts.relist_delay);
      return;
    }
    if (r.truncated)
      st->log("discovery of " + st->prefix + ": the listing was truncated at " +
              std::to_string(r.entries.size()) + " keys; following those only");
    auto l = std::make_shared<listing>();
    l->revision = r.version;
    l->left = r.entries.size();
    if (r.entries.empty()) {
      finish(st, epoch, l);
      return;
    }
    for (auto& e : r.entries) {
      st->c->async_get(e.key, [st, epoch, l, key = e.key](kv::result g) {
        if (g.ok()) {
          l->values[key] = member_table::listed{std::move(g.value), g.version};
        } else if (g.code != kv::result_code::not_found) {  // not_found: deleted since
          l->failed = true;
          l->why = "get " + key + " failed (" + kv::to_string(g.code) + ")";
        }
        if (--l->left == 0)
          finish(st, epoch, l);
      });
    }
  }

  static void finish(const std::shared_ptr<discovery_state>& st, std::uint64_t epoch,
                     const std::shared_ptr<listing>& l) {
    if (!current(st, epoch))
      return;
    if (l->failed) {
      st->log("discovery of " + st->prefix + ": " + l->why + ", listing again");
      relist_later(st, st->opts.relist_delay);
      return;
    }
    {
      std::lock_guard<std::mutex> guard{st->mu};
      st->push(st->table.reset(l->values));
      st->synced = true;
      ++st->listings;
      st->cv.notify_all();
    }
    // Everything after the listing's revision, in order, without gaps.
    auto w = st->c->watch(
      st->prefix, true, l->revision,
      [st, epoch](std::vector<kv::event> evs, std::uint64_t) {
        std::lock_guard<std::mutex> guard{st->mu};
        if (st->stopped || st->epoch != epoch)
          return;
        for (auto& e : evs)
          st->push(st->table.apply(e));
      },
      [st, epoch](lock::result why) {
        if (!current(st, epoch))
          return;
        bool compacted = why.code == lock::result_code::compacted;
        st->log("discovery of " + st->prefix + ": the watch ended (" + lock::to_string(why.code) +
                (why.message.empty() ? "" : ": " + why.message) + "), listing again");
        relist_later(st, compacted ? std::chrono::milliseconds(0) : st->opts.relist_delay);
      });
    std::unique_ptr<client::watch_handle> old;
    {
      std::lock_guard<std::mutex> guard{st->mu};
      if (st->stopped || st->epoch != epoch) {
        old = std::move(w);
      } else {
        old = std::move(st->watch);
        st->watch = std::move(w);
      }
    }
    // `old` stops here, outside the lock.
  }
};

namespace {

/// One member as the follower handles it.
struct link {
  member_address address;
  caf::actor handle;
  bool connected = false;
  /// The balancer knows this name (up, or down after the worker died).
  bool in_balancer = false;
  /// Numbers connection attempts; replies and timers of older ones are dropped.
  std::uint64_t attempt = 0;
  std::chrono::milliseconds backoff{0};
  std::string last_error;
};

struct follower_state {
  static inline const char* name = "ballot.discovery";
  std::shared_ptr<detail::discovery_state> shared;
  caf::actor balancer;
  std::map<std::string, link> links;
};

using follower_actor = caf::stateful_actor<follower_state>;

void publish_status(follower_actor* self) {
  auto& st = self->state;
  std::map<std::string, member_status> out;
  for (auto& [key, l] : st.links)
    out.emplace(key, member_status{key, l.address, l.connected, l.last_error});
  std::lock_guard<std::mutex> guard{st.shared->mu};
  st.shared->status = std::move(out);
  st.shared->cv.notify_all();
}

void log(follower_actor* self, const std::string& what) {
  auto& shared = *self->state.shared;
  {
    std::lock_guard<std::mutex> guard{shared.mu};
    if (shared.stopped)
      return;  // the discovery is gone; so may be what its logger uses
  }
  shared.log("discovery of " + shared.prefix + ": " + what);
}

/// Sends a message the balancer answers, logging an error answer.
template <class... Ts>
void tell_balancer(follower_actor* self, std::string what, Ts&&... xs) {
  self->request(self->state.balancer, balancer_reply_timeout, std::forward<Ts>(xs)...)
    .then([](caf::message&) {},
          [self, what](caf::error& err) {
            // A reply of any type arrives as unexpected_response: that is success.
            if (err != caf::sec::unexpected_response)
              log(self, what + " refused by the balancer: " + self->system().render(err));
          });
}

void retry_later(follower_actor* self, const std::string& key) {
  auto& l = self->state.links.at(key);
  auto& o = self->state.shared->opts;
  l.backoff = l.backoff.count() == 0 ? o.retry_min : std::min(l.backoff * 2, o.retry_max);
  self->delayed_send(self, l.backoff, retry_atom::value, key, l.attempt);
}

void connected(follower_actor* self, const std::string& key, caf::actor handle) {
  auto& l = self->state.links.at(key);
  l.handle = handle;
  l.connected = true;
  l.backoff = std::chrono::milliseconds(0);
  l.last_error.clear();
  self->monitor(handle);
  // Remove-then-add is ordered and always accepted, whether the balancer
  // still sees the old handle up or already took it down.
  if (l.in_balancer)
    tell_balancer(self, "remove " + key, balance::remove_worker_atom_v, key);
  if (l.address.max_outstanding)
    tell_balancer(self, "add " + key, balance::add_worker_atom_v, key, handle, l.address.weight,
                  *l.address.max_outstanding);
  else
    tell_balancer(self, "add " + key, balance::add_worker_atom_v, key, handle, l.address.weight);
  l.in_balancer = true;
  log(self, key + " joined (" + encode(l.address) + ")");
}

void connect(follower_actor* self, const std::string& key) {
  auto& l = self->state.links.at(key);
  auto attempt = ++l.attempt;
  l.connected = false;
  l.handle = nullptr;
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, self->state.shared->opts.connect_timeout, caf::connect_atom_v, l.address.host,
              l.address.port)
    .then(
      [self, key, attempt](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        auto it = self->state.links.find(key);
        if (it == self->state.links.end() || it->second.attempt != attempt)
          return;
        if (!ptr) {
          it->second.last_error = "nothing is published at " + it->second.address.endpoint();
          log(self, "cannot connect to " + key + ": " + it->second.last_error);
          retry_later(self, key);
        } else {
          connected(self, key, caf::actor_cast<caf::actor>(ptr));
        }
        publish_status(self);
      },
      [self, key, attempt](caf::error& err) {
        auto it = self->state.links.find(key);
        if (it == self->state.links.end() || it->second.attempt != attempt)
          return;
        it->second.last_error = self->system().render(err);
        log(self, "cannot connect to " + key + " at " + it->second.address.endpoint() + ": " +
                    it->second.last_error);
        retry_later(self, key);
        publish_status(self);
      });
}

/// The member leaves the balancer (for good, or before it moves).
void drop(follower_actor* self, const std::string& key, link& l) {
  ++l.attempt;  // pending connections and timers of it are void now
  if (l.in_balancer)
    tell_balancer(self, "remove " + key, balance::remove_worker_atom_v, key);
  l.in_balancer = false;
  l.connected = false;
  l.handle = nullptr;
}

void apply(follower_actor* self, change& ch) {
  auto& links = self->state.links;
  switch (ch.what) {
    case change::kind::join:
    case change::kind::update: {
      auto it = links.find(ch.key);
      if (it == links.end()) {
        links[ch.key].address = ch.address;
        connect(self, ch.key);
        return;
      }
      auto& l = it->second;
      bool same_place = l.address.host == ch.address.host && l.address.port == ch.address.port &&
                        l.address.max_outstanding == ch.address.max_outstanding;
      if (same_place) {
        auto old_weight = l.address.weight;
        l.address = ch.address;
        if (l.in_balancer && old_weight != ch.address.weight) {
          tell_balancer(self, "reweight " + ch.key, balance::reweight_atom_v, ch.key,
                        ch.address.weight);
          log(self, ch.key + " reweighted to " + std::to_string(ch.address.weight));
        }
        return;
      }
      log(self, ch.key + " moved to " + encode(ch.address));
      drop(self, ch.key, l);
      l.address = ch.address;
      l.backoff = std::chrono::milliseconds(0);
      connect(self, ch.key);
      return;
    }
    case change::kind::leave: {
      auto it = links.find(ch.key);
      if (it == links.end())
        return;
      drop(self, ch.key, it->second);
      links.erase(it);
      log(self, ch.key + " left");
      return;
    }
    case change::kind::reject:
      log(self, ch.message);
      return;
  }
}

caf::behavior follower(follower_actor* self, std::shared_ptr<detail::discovery_state> shared,
                       caf::actor balancer) {
  self->state.shared = std::move(shared);
  self->state.balancer = balancer;
  self->monitor(balancer);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.balancer.address()) {
      self->quit(msg.reason);
      return;
    }
    bool any = false;
    for (auto& [key, l] : st.links) {
      if (l.connected && l.handle.address() == msg.source) {
        // The balancer took it down by itself; reconnect while its key lives.
        l.connected = false;
        l.handle = nullptr;
        l.last_error = "connection lost: " + self->system().render(msg.reason);
        log(self, key + " " + l.last_error + "; reconnecting while its key remains");
        retry_later(self, key);
        any = true;
      }
    }
    if (any)
      publish_status(self);
  });
  return {
    [self](poke_atom) {
      std::deque<change> changes;
      {
        std::lock_guard<std::mutex> guard{self->state.shared->mu};
        changes.swap(self->state.shared->inbox);
      }
      if (changes.empty())
        return;
      for (auto& ch : changes)
        apply(self, ch);
      publish_status(self);
    },
    [self](retry_atom, const std::string& key, std::uint64_t attempt) {
      auto it = self->state.links.find(key);
      if (it == self->state.links.end() || it->second.attempt != attempt || it->second.connected)
        return;
      connect(self, key);
    },
  };
}

}  // namespace

discovery::discovery(caf::actor_system& sys, client::client& c, std::string prefix,
                     caf::actor balancer, discovery_options opts)
    : st_(std::make_shared<detail::discovery_state>()),
      balancer_(std::move(balancer)),
      prefix_(std::move(prefix)) {
  if (!balancer_)
    throw std::invalid_argument("discovery: invalid balancer handle");
  if (opts.retry_min.count() <= 0)
    opts.retry_min = std::chrono::milliseconds(1);
  opts.retry_max = std::max(opts.retry_max, opts.retry_min);
  st_->c = &c;
  st_->prefix = prefix_;
  st_->opts = std::move(opts);
  follower_ = sys.spawn(follower, st_, balancer_);
  {
    std::lock_guard<std::mutex> guard{st_->mu};
    st_->follower = follower_;
  }
  detail::discovery_state::list(st_);
}

discovery::~discovery() {
  std::unique_ptr<client::watch_handle> w;
  {
    std::lock_guard<std::mutex> guard{st_->mu};
    st_->stopped = true;
    st_->follower = nullptr;
    w = std::move(st_->watch);
  }
  w.reset();
  caf::anon_send_exit(follower_, caf::exit_reason::user_shutdown);
  if (owns_balancer_)
    caf::anon_send_exit(balancer_, caf::exit_reason::user_shutdown);
}

const caf::actor& discovery::balancer() const {
  return balancer_;
}

const std::string& discovery::prefix() const {
  return prefix_;
}

bool discovery::synced() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->synced;
}

bool discovery::wait_connected(std::size_t at_least, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lk{st_->mu};
  return st_->cv.wait_for(lk, timeout, [&] {
    std::size_t n = 0;
    for (auto& [key, s] : st_->status)
      n += s.connected ? 1 : 0;
    return n >= at_least;
  });
}

std::vector<member_status> discovery::members() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  std::vector<member_status> out;
  for (auto& [key, s] : st_->status)
    out.push_back(s);
  return out;
}

std::uint64_t discovery::listings() const {
  std::lock_guard<std::mutex> guard{st_->mu};
  return st_->listings;
}

void discovery::owns_balancer(bool yes) {
  owns_balancer_ = yes;
}

std::unique_ptr<discovery> spawn_discovering_balancer(caf::actor_system& sys, client::client& c,
                                                      std::string prefix,
                                                      balance::balancer_config cfg,
                                                      discovery_options opts) {
  auto balancer = balance::spawn_balancer(sys, std::move(cfg));
  auto d = std::make_unique<discovery>(sys, c, std::move(prefix), balancer, std::move(opts));
  d->owns_balancer(true);
  return d;
}

}  // namespace ballot::discovery
