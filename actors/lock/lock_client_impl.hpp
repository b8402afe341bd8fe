#pragma once

// Internals shared by lock_client.cpp and lock_client_watch.cpp: the
// helpers that turn service answers into call results, and the state the
// client, its sessions and its watchers share. Not part of the public API.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "caf/actor.hpp"

#include "actors/kv/command_codec.hpp"
#include "actors/lock/lock_codec.hpp"
#include "actors/paxos/request_ids.hpp"
#include "actors/replica/group_caller.hpp"
#include "actors/replica/random_id.hpp"

#include "actors/lock/lock_client.hpp"

namespace ballot::lock {

namespace detail {

using clock_type = actors::group_caller::clock;

/// Polls start this fast and back off to `client_options::poll_interval`.
constexpr auto min_poll = std::chrono::milliseconds(2);

inline call_result fail(call_status status, std::string message) {
  call_result r;
  r.status = status;
  r.message = std::move(message);
  return r;
}

inline std::string millis(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count()) + " ms";
}

/// The client's view of a service result (codes that a call handles itself,
/// such as queued, are mapped by that call before it gets here).
inline call_result to_call_result(const result& r) {
  call_result out;
  out.token = r.token;
  out.revision = r.revision;
  out.value = r.value;
  out.message = r.message;
  switch (r.code) {
    case result_code::ok:
      out.status = call_status::ok;
      break;
    case result_code::busy:
      out.status = call_status::busy;
      break;
    case result_code::no_session:
      out.status = call_status::session_lost;
      if (out.message.empty())
        out.message = "the service no longer knows the session (expired or closed)";
      break;
    case result_code::not_held:
    case result_code::not_waiting:
      out.status = call_status::not_held;
      break;
    case result_code::already_held:
      out.status = call_status::already_held;
      break;
    case result_code::already_waiting:
      out.status = call_status::busy;
      out.message = "this session already waits for the lock";
      break;
    case result_code::queued:
      out.status = call_status::busy;
      break;
    case result_code::not_found:
      out.status = call_status::not_found;
      break;
    case result_code::stale:
      out.status = call_status::stale;
      break;
    case result_code::compacted:
      out.status = call_status::compacted;
      break;
    case result_code::bad_request:
      out.status = call_status::bad_request;
      break;
    default:
      out.status = call_status::bad_request;
      out.message = std::string{"unexpected answer "} + lock::to_string(r.code);
      break;
  }
  return out;
}

/// One decoded answer of the service, or why there is none.
struct answer {
  bool ok = false;
  result res;
  call_result failure;  ///< when !ok
};

/// Why the replicas gave no answer to use (`a` is not ok).
inline call_result failure_of(const actors::group_answer& a) {
  return fail(a.expired ? call_status::expired : call_status::unavailable, a.error);
}

inline answer decode_answer(const actors::group_answer& a) {
  answer out;
  if (!a.ok) {
    out.failure = failure_of(a);
    return out;
  }
  std::string error;
  if (!decode(a.result, out.res, error)) {
    out.failure = fail(call_status::bad_request, "undecodable answer: " + error);
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace detail

// -- the state the client, its sessions and its watchers share ----------------

struct lock_client::impl {
  impl(caf::actor_system& sys, actors::peer_map replicas, std::uint64_t client_id,
       client_options opts)
      : sys(sys),
        replicas(std::move(replicas)),
        ids(client_id),
        opts(opts),
        caller(sys, this->replicas, opts.attempt_timeout) {}

  /// A new caller for a thread of its own.
  std::unique_ptr<actors::group_caller> new_caller() const {
    return std::make_unique<actors::group_caller>(sys, replicas, opts.attempt_timeout);
  }

  /// Proposes `payload` through `c` as a new command: the next request id
  /// (kept across its retries), a fresh client id first if the replicas
  /// forgot this one. Any thread.
  actors::group_answer propose(actors::group_caller& c, std::string payload,
                               detail::clock_type::time_point until,
                               const std::atomic<bool>* stop = nullptr) {
    paxos::command cmd;
    {
      std::lock_guard<std::mutex> guard{ids_mtx};
      if (ids.stale())
        ids.renew(actors::random_client_id());
      cmd = paxos::command{ids.id(), ids.next_seq(), std::move(payload)};
    }
    auto a = c.propose(cmd, until, stop);
    if (a.expired) {
      std::lock_guard<std::mutex> guard{ids_mtx};
      ids.forgotten(cmd.client);
    }
    return a;
  }

  detail::clock_type::time_point deadline() const {
    return detail::clock_type::now() + opts.timeout;
  }

  detail::answer read(actors::group_caller& c, const query& q) {
    return detail::decode_answer(c.read(encode(q), deadline()));
  }

  detail::answer read(const query& q) {
    std::lock_guard<std::mutex> guard{mtx};
    return read(caller, q);
  }

  caf::actor_system& sys;
  actors::peer_map replicas;
  /// Shared by every thread that proposes for this client.
  std::mutex ids_mtx;
  paxos::request_ids ids;
  client_options opts;
  /// Serializes the client's own calls on `caller`.
  std::mutex mtx;
  actors::group_caller caller;
};

}  // namespace ballot::lock
