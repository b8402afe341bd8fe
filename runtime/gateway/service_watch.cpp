// Watches: every change of a key or prefix, in commit order and without
// gaps, streamed to the caller's WatchSink capability. Recent events come
// from the node's change feed (what the local replica applied); older ones,
// and a check when the feed is quiet, come from the cluster's history by a
// linearizable events_since read.
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/lock/lock_codec.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

/// Caps on one sink call, so one huge backlog does not make one huge message.
constexpr std::size_t max_events_per_call = 1000;
constexpr std::size_t max_bytes_per_call = 4u << 20;

}  // namespace

struct service::watch_state {
  WatchContext context;
  std::string key;
  bool prefix = false;
  /// Every change up to this revision was delivered (or did not match).
  std::uint64_t revision = 0;
  schemas::client::WatchSink::Client sink;
};

kj::Promise<void> service::watch(connection_context& conn, WatchContext context) {
  auto p = context.getParams();
  auto key = p.getKey();
  if (key.size() > opts_.max_key_bytes)
    return bad_request(context, over_limit("key " + preview(key), key.size(), opts_.max_key_bytes));
  if (key.size() == 0 && !p.getPrefix())
    return bad_request(context, "the key is empty (watch every key with prefix and an empty key)");
  // Checked once, when the watch starts (as etcd does).
  if (auto d = check(conn, auth::access::read, to_std(key), p.getPrefix(), "watch"))
    return refuse_access(context, d->unauthenticated, d->message);
  auto w = std::make_shared<watch_state>(
    watch_state{context, to_std(key), p.getPrefix(), p.getFromRevision(), p.getSink()});
  bool from_now = p.getFromNow();
  // A start the local replica has applied is at or before the cluster's
  // revision: no need to ask. Resumes are such starts almost always.
  if (!from_now && w->revision <= opts_.feed->revision())
    return watch_round(w);
  // Otherwise the cluster's current revision (a revision past every one asks
  // for nothing and answers with it): where a from-now watch starts, and
  // what a start from a revision must not pass.
  auto q = lock::events_since{w->key, std::numeric_limits<std::uint64_t>::max()};
  return lock_read(lock::query{q}).then([this, w, from_now](std::optional<lock::result> r) mutable {
    auto end = [&] { return w->context.getResults().initResult().initError(); };
    if (!r || !r->ok()) {
      end().setUnavailable("the cluster did not tell its current revision");
      return kj::Promise<void>{kj::READY_NOW};
    }
    if (!from_now) {
      // Waiting for a revision nobody has written yet would look like a
      // quiet key. Every revision a watcher was ever given is at or before
      // the current one, so a resume (even at exactly the current) passes.
      if (w->revision > r->revision) {
        end().setBadRequest("fromRevision " + std::to_string(w->revision) +
                            " is past the current revision " + std::to_string(r->revision));
        return kj::Promise<void>{kj::READY_NOW};
      }
      return watch_round(w);
    }
    // Tells the watcher where it starts, so a resumed watch misses nothing.
    return deliver(w, {}, r->revision);
  });
}

kj::Promise<void> service::watch_round(const std::shared_ptr<watch_state>& w) {
  std::vector<kv::event> events;
  std::uint64_t upto = 0;
  if (!opts_.feed->events_since(w->key, w->prefix, w->revision, events, upto))
    return cluster_round(w);  // the feed no longer reaches back that far
  if (!events.empty())
    return deliver(w, std::move(events), upto);
  w->revision = std::max(w->revision, upto);
  return wait_for_news(w);
}

kj::Promise<void> service::wait_for_news(const std::shared_ptr<watch_state>& w) {
  // The feed wakes the watch when the local replica applies a change of its
  // keys; the gateway's probe wakes it (false) when this replica's feed falls
  // behind the cluster (cut off from the leader, or lagging), and the watch
  // then asks the cluster. Waiting itself costs nothing per second.
  auto [woken, done] = handoff<bool>();
  auto id =
    opts_.feed->on_change(w->revision, w->key, w->prefix, [done = std::move(done)] { done(true); });
  auto stale = kj::newPromiseAndFulfiller<bool>();
  auto wid = ++next_watch_;
  idle_watches_.emplace(wid, kj::mv(stale.fulfiller));
  start_probe();
  return woken.exclusiveJoin(kj::mv(stale.promise))
    .then([this, w](bool woke) { return woke ? watch_round(w) : cluster_round(w); })
    .attach(kj::defer([this, id, wid] {
      opts_.feed->cancel(id);
      idle_watches_.erase(wid);
    }));
}

void service::start_probe() {
  if (probe_running_)
    return;
  probe_running_ = true;
  probe_task_ = probe_round().eagerlyEvaluate([this](kj::Exception&&) { probe_running_ = false; });
}

kj::Promise<void> service::probe_round() {
  return timer_.afterDelay(to_kj(opts_.watch_poll)).then([this]() -> kj::Promise<void> {
    if (idle_watches_.empty()) {
      probe_running_ = false;
      return kj::READY_NOW;
    }
    auto q = lock::events_since{"", std::numeric_limits<std::uint64_t>::max(), 1};
    return lock_read(lock::query{q}).then([this](std::optional<lock::result> r) {
      if (r && r->ok()) {
        if (opts_.feed->revision() < probed_revision_) {
          // Behind what the cluster had a whole poll ago: every waiting
          // watch asks the cluster's history instead of this replica's feed.
          auto stale = std::move(idle_watches_);
          idle_watches_.clear();
          for (auto& [id, f] : stale)
            f->fulfill(false);
        }
        probed_revision_ = r->revision;
      }
      return probe_round();
    });
  });
}

kj::Promise<void> service::cluster_round(const std::shared_ptr<watch_state>& w) {
  // At most one batch's worth: a watch far behind takes the history in
  // steps, never all of it per call.
  auto q = lock::events_since{w->key, w->revision, max_bytes_per_call};
  return lock_read(lock::query{q})
    .then([this, w](std::optional<lock::result> r) -> kj::Promise<void> {
      auto end = [&] { return w->context.getResults().initResult().initError(); };
      if (!r || (r->code != lock::result_code::ok && r->code != lock::result_code::compacted)) {
        end().setUnavailable("the cluster's history did not answer; resume from revision " +
                             std::to_string(w->revision));
        return kj::READY_NOW;
      }
      if (r->code == lock::result_code::compacted) {
        end().setCompacted(r->revision);
        return kj::READY_NOW;
      }
      std::vector<kv::event> events;
      for (auto& e : r->events)
        if (w->prefix || e.key == w->key)
          events.push_back(std::move(e));
      if (!events.empty())
        return deliver(w, std::move(events), r->revision);
      w->revision = std::max(w->revision, r->revision);
      return wait_for_news(w);
    });
}

kj::Promise<void> service::deliver(const std::shared_ptr<watch_state>& w,
                                   std::vector<kv::event> events, std::uint64_t upto) {
  std::size_t n = 0;
  std::size_t bytes = 0;
  while (n < events.size() && n < max_events_per_call &&
         (n == 0 || bytes + events[n].key.size() + events[n].value.size() <= max_bytes_per_call)) {
    bytes += events[n].key.size() + events[n].value.size();
    ++n;
  }
  // Cut short: the watcher is only as far as the last event sent.
  if (n < events.size())
    upto = events[n - 1].revision;
  auto req = w->sink.eventsRequest();
  auto list = req.initEvents(static_cast<unsigned>(n));
  for (unsigned i = 0; i < n; ++i) {
    auto& e = events[i];
    list[i].setRevision(e.revision);
    list[i].setType(e.type == kv::event_type::put ? schemas::client::EventType::PUT
                                                  : schemas::client::EventType::DELETE);
    list[i].setKey(e.key);
    list[i].setValue(as_data(e.value));
  }
  req.setRevision(upto);
  if (watch_bytes_ + bytes > opts_.max_watch_bytes_in_flight && watch_bytes_ > 0) {
    w->context.getResults().initResult().initError().setOverloaded(
      "the node has " + std::to_string(watch_bytes_) +
      " bytes of events on their way to watchers (limit " +
      std::to_string(opts_.max_watch_bytes_in_flight) + "); resume from revision " +
      std::to_string(w->revision));
    return kj::READY_NOW;
  }
  watch_bytes_ += bytes;
  auto sent = kj::defer([this, bytes] { watch_bytes_ -= bytes; });
  // One call at a time: a slow watcher slows only its own watch, and one
  // that does not take its events within the stall timeout is cut off.
  auto stalled = timer_.afterDelay(to_kj(opts_.watch_stall_timeout)).then([this, w] {
    w->context.getResults().initResult().initError().setOverloaded(
      "the watcher did not take its events within " +
      std::to_string(opts_.watch_stall_timeout.count()) + " ms; resume from revision " +
      std::to_string(w->revision));
    return false;
  });
  return req.send()
    .then([](auto&&) { return true; })
    .exclusiveJoin(kj::mv(stalled))
    .attach(kj::mv(sent))
    .then(
      [this, w, upto](bool taken) -> kj::Promise<void> {
        if (!taken)
          return kj::READY_NOW;
        w->revision = upto;
        return watch_round(w);
      },
      [](kj::Exception&&) {
        // The sink is gone (the watcher disconnected): the watch ends.
      });
}

}  // namespace ballot::gateway
