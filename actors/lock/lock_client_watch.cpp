// The lock client's watchers: a thread per watch following the service's
// history of key events (split from lock_client.cpp).
#include "actors/lock/lock_client_impl.hpp"

namespace ballot::lock {

using detail::answer;
using detail::clock_type;
using detail::decode_answer;
using detail::fail;
using detail::millis;
using detail::min_poll;
using detail::to_call_result;

// -- watcher --------------------------------------------------------------------

struct watcher::impl {
  impl(std::shared_ptr<lock_client::impl> client, std::string prefix, std::uint64_t revision,
       bool resolved, event_callback on_event, end_callback on_end)
      : client(std::move(client)),
        prefix(std::move(prefix)),
        resolved(resolved),
        on_event(std::move(on_event)),
        on_end(std::move(on_end)),
        delivered(revision) {}

  void loop() {
    auto caller = client->new_caller();
    caf::timespan pause = min_poll;
    while (!stop) {
      auto from = resolved ? delivered.load() : lock_client::from_now;
      auto a = decode_answer(
        caller->read(encode(query{events_since{prefix, from}}), client->deadline(), &stop));
      if (stop)
        break;
      if (a.ok && a.res.code == result_code::ok) {
        if (resolved) {
          for (auto& e : a.res.events) {
            if (stop)
              break;
            on_event(e);
            delivered = e.revision;
          }
          if (stop)
            break;
        }
        resolved = true;
        if (a.res.revision > delivered)
          delivered = a.res.revision;
        pause = a.res.events.empty()
                  ? std::min<caf::timespan>(pause * 2, client->opts.poll_interval)
                  : caf::timespan{min_poll};
      } else if (a.ok) {
        // compacted or bad_request: the watch cannot go on by itself.
        auto end = to_call_result(a.res);
        end.revision = delivered;
        if (end.status == call_status::compacted)
          end.message = "the history no longer reaches back to revision " +
                        std::to_string(delivered) + "; re-read and watch again";
        running = false;
        if (on_end)
          on_end(end);
        return;
      } else {
        // Unavailable (an election, a dead replica): keep trying.
        pause = client->opts.poll_interval;
      }
      std::unique_lock<std::mutex> guard{mtx};
      cv.wait_for(guard, pause, [&] { return stop.load(); });
    }
    running = false;
  }

  void halt() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      stop = true;
      cv.notify_all();
    }
    std::lock_guard<std::mutex> guard{thread_mtx};
    if (!thread.joinable())
      return;
    if (thread.get_id() == std::this_thread::get_id())
      thread.detach();
    else
      thread.join();
  }

  std::shared_ptr<lock_client::impl> client;
  std::string prefix;
  bool resolved;
  event_callback on_event;
  end_callback on_end;
  std::atomic<std::uint64_t> delivered;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{true};
  std::mutex mtx;
  std::condition_variable cv;
  std::mutex thread_mtx;
  std::thread thread;
};

watcher::watcher(std::shared_ptr<impl> state) : impl_(std::move(state)) {}

watcher::~watcher() {
  impl_->halt();
}

void watcher::stop() {
  impl_->halt();
}

bool watcher::running() const {
  return impl_->running;
}

std::uint64_t watcher::revision() const {
  return impl_->delivered;
}

// -- lock_client ------------------------------------------------------------------

call_result lock_client::current_revision() {
  // Events after the largest revision: none, but the answer names the current one.
  auto a = impl_->read(query{events_since{"", from_now}});
  return a.ok ? to_call_result(a.res) : a.failure;
}

std::unique_ptr<watcher> lock_client::watch(std::string prefix, std::uint64_t from_revision,
                                            event_callback on_event, end_callback on_end) {
  bool resolved = true;
  if (from_revision == from_now) {
    // Pinned now, so everything committed after watch() returns is delivered;
    // if the service cannot be reached, the watch pins it once it can.
    auto now = current_revision();
    resolved = now.ok();
    from_revision = now.ok() ? now.revision : 0;
  }
  auto st = std::make_shared<watcher::impl>(impl_, std::move(prefix), from_revision, resolved,
                                            std::move(on_event), std::move(on_end));
  st->thread = std::thread([st] { st->loop(); });
  return std::unique_ptr<watcher>(new watcher(st));
}

}  // namespace ballot::lock
