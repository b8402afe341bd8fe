// Watches of the client library: a sink capability the node streams events
// to, resumed on another node from the last revision when one fails. Which
// node and when is the leader follower's rule (actors/replica), the same as
// every call's: the next endpoint at once, a pause once every one failed.
#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/client/client.hpp"
#include "runtime/client/client_impl.hpp"

namespace ballot::client {

// -- watches ---------------------------------------------------------------------

struct watch_state {
  std::string key;
  bool prefix = false;
  std::atomic<std::uint64_t> revision{0};
  /// Until the node reports where a from-now watch starts.
  std::atomic<bool> from_now{false};
  client::events_callback on_events;
  client::lock_callback on_end;
  // I/O thread only:
  bool stopped = false;
  kj::Canceler canceler;
  /// Where the watch runs, or is tried next, and when (no deadline: a
  /// watch retries until it is stopped). A new one per outage: failures of
  /// the watch before it last ran count no more.
  std::optional<routing::leader_follower> route;
  /// The node took this try: it reported where the watch stands.
  bool running = false;
};

namespace {

/// The capability the node streams a watch's events to.
class sink_server final : public schemas::client::WatchSink::Server {
 public:
  explicit sink_server(std::shared_ptr<watch_state> w) : w_(std::move(w)) {}

  kj::Promise<void> events(EventsContext context) override {
    if (w_->stopped)
      return kj::READY_NOW;
    auto p = context.getParams();
    auto seen = w_->revision.load();
    std::vector<kv::event> evs;
    for (auto e : p.getEvents()) {
      // A resumed watch starts after the last revision, but stay exact.
      if (e.getRevision() <= seen)
        continue;
      kv::event ev;
      ev.revision = e.getRevision();
      ev.type =
        e.getType() == schemas::client::EventType::PUT ? kv::event_type::put : kv::event_type::del;
      ev.key = to_std(e.getKey());
      auto v = e.getValue();
      ev.value.assign(reinterpret_cast<const char*>(v.begin()), v.size());
      evs.push_back(std::move(ev));
    }
    auto upto = std::max(seen, p.getRevision());
    w_->running = true;
    w_->revision = upto;
    w_->from_now = false;
    if (!evs.empty() && w_->on_events) {
      try {
        w_->on_events(std::move(evs), upto);
      } catch (...) {
        // A throwing callback must not take the client's I/O thread down.
      }
    }
    return kj::READY_NOW;
  }

 private:
  std::shared_ptr<watch_state> w_;
};

void end_watch(watch_state& w, lock::result why) {
  if (w.stopped)
    return;
  w.stopped = true;
  if (w.on_end) {
    try {
      w.on_end(std::move(why));
    } catch (...) {
      // as above
    }
  }
}

}  // namespace

void client::impl::follow_watch(const std::shared_ptr<watch_state>& w, std::size_t start) {
  std::vector<routing::leader_follower::member_id> ids;
  for (std::size_t i = 0; i < slots.size(); ++i)
    ids.push_back(i);
  w->route.emplace(routing::follower_config{}, std::move(ids), start,
                   clock_type::time_point::max());
}

void client::impl::run_watch(const std::shared_ptr<watch_state>& w) {
  if (closed || w->stopped)
    return;
  auto next = w->route->next(clock_type::now());
  if (next.what == routing::leader_follower::verdict::pause) {
    auto delay = std::chrono::ceil<std::chrono::milliseconds>(next.at - clock_type::now());
    schedule(std::max(delay, std::chrono::milliseconds(1)), [this, w] { run_watch(w); });
    return;
  }
  auto at = static_cast<std::size_t>(next.member);
  w->running = false;
  auto running = get_link(at).then([w](kj::Own<link> l) -> kj::Promise<outcome> {
    if (l->refused)
      return refused_link(*l);
    auto req = l->cap.watchRequest();
    req.setKey(as_text(w->key));
    req.setPrefix(w->prefix);
    req.setFromRevision(w->revision.load());
    req.setFromNow(w->from_now.load());
    req.setSink(kj::heap<sink_server>(w));
    return req.send().attach(kj::mv(l)).then([](capnp::Response<Ballot::WatchResults> r) {
      auto o = from_error(r.getResult().getError());
      return o;
    });
  });
  auto again = [this, w, at](outcome o) {
    if (closed || w->stopped)
      return;
    if (o.link_failed && slots[at].ready)
      slots[at].ready->broken = true;
    if (o.link_failed)
      slots[at].connect_done = true;
    auto now = clock_type::now();
    if (w->running)
      follow_watch(w, at);  // it ran: a new outage starts here
    if (is_overloaded(o))
      w->route->overloaded(jitter(), now);
    else
      w->route->failed(now);
    run_watch(w);
  };
  tasks->add(w->canceler.wrap(kj::mv(running))
               .then(
                 [w, again](outcome o) {
                   auto code = o.lres.code;
                   // Refusals that another try would only repeat end the watch.
                   if (o.k == outcome::kind::done &&
                       (code == lock::result_code::compacted ||
                        code == lock::result_code::bad_request ||
                        code == lock::result_code::unauthenticated ||
                        code == lock::result_code::permission_denied)) {
                     end_watch(*w, std::move(o.lres));
                     return;
                   }
                   again(std::move(o));
                 },
                 [w, again](kj::Exception&& e) {
                   if (!w->stopped)
                     again(retry(e.getDescription().cStr(), true));
                 }));
}

namespace {

class watch_impl final : public watch_handle {
 public:
  watch_impl(std::shared_ptr<watch_state> w, std::function<void(std::function<void()>)> on_io)
      : w_(std::move(w)), on_io_(std::move(on_io)) {}

  ~watch_impl() override {
    on_io_([w = w_] {
      w->stopped = true;
      w->canceler.cancel("the watch was stopped");
    });
  }

  std::uint64_t revision() const override { return w_->revision.load(); }
  bool started() const override { return !w_->from_now.load(); }

 private:
  std::shared_ptr<watch_state> w_;
  std::function<void(std::function<void()>)> on_io_;
};

}  // namespace

std::unique_ptr<watch_handle> client::watch(const std::string& key, bool prefix,
                                            std::optional<std::uint64_t> from_revision,
                                            events_callback on_events, lock_callback on_end) {
  auto w = std::make_shared<watch_state>();
  w->key = key;
  w->prefix = prefix;
  w->revision = from_revision.value_or(0);
  w->from_now = !from_revision;
  w->on_events = std::move(on_events);
  w->on_end = std::move(on_end);
  auto* p = impl_.get();
  // Runs `fn` on the I/O thread, now if this is it; nothing if it is gone.
  auto on_io = [p](std::function<void()> fn) {
    if (std::this_thread::get_id() == p->io_thread) {
      fn();
      return;
    }
    try {
      p->executor->executeSync([&] { fn(); });
    } catch (const kj::Exception&) {
      // The client closed: every watch ended with it.
    }
  };
  on_io([p, w] {
    p->follow_watch(w, p->preferred);
    p->run_watch(w);
  });
  return std::make_unique<watch_impl>(w, on_io);
}

}  // namespace ballot::client
