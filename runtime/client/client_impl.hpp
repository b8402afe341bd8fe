#pragma once

// The client library's internals, shared by its source files (client.cpp:
// the call machinery, which follows the leader and retries every call, and
// `wait`, the one way a blocking call waits for its asynchronous one;
// client_transport.cpp: the I/O thread and the connections; client_kv.cpp:
// the key/value calls; client_locks.cpp: the lock service's calls;
// client_watch.cpp: watches; client_auth, client_backup, client_members:
// the admin calls). Not a public header.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

#include "actors/paxos/request_ids.hpp"
#include "actors/replica/leader_follower.hpp"
#include "actors/replica/random_id.hpp"
#include "runtime/client/client.hpp"
#include "runtime/tls/tls_context.hpp"
#include "schemas/client.capnp.h"

namespace ballot::client {

namespace detail {

using schemas::client::Ballot;
using clock_type = std::chrono::steady_clock;

enum class op {
  put,
  get,
  del,
  list,
  status,
  open_session,
  keep_alive,
  close_session,
  acquire,
  release,
  check_token,
  lock_info,
  put_ephemeral,
  auth_change,
  auth_list,
  whoami,
  snapshot,
  member_list,
  member_change,
};

/// The arguments of an auth change (client_auth.cpp).
struct auth_request;

/// How one try at one endpoint ended.
struct outcome {
  enum class kind {
    done,      ///< the call has its answer (`res`, or `status` for op::status)
    redirect,  ///< the node names the leader's endpoint: try there
    retry,     ///< this endpoint failed (`why`): try the next one
  };
  kind k = kind::done;
  kv::result res;
  /// The answer of a lock-service call.
  lock::result lres;
  cluster_status status;
  /// The answers of auth_list and whoami.
  std::shared_ptr<auth_listing> listing;
  std::shared_ptr<identity> who;
  /// The answer of snapshot.
  std::shared_ptr<backup_result> backup;
  /// The answers of member_list and member_change.
  std::shared_ptr<member_listing> members;
  std::uint32_t member_id = 0;
  std::string redirect_to;
  std::string why;
  /// The connection itself failed or hung: open a new one next time.
  bool link_failed = false;
};

/// A finished call's outcome: the answer as a key/value result (and the
/// matching lock-service code), or as a lock-service result.
outcome finished(kv::result r);
outcome finished(lock::result r);
/// This endpoint failed (`why`): try the next one.
outcome retry(std::string why, bool link_failed);
/// A call's outcome from the node's `Error`: finished, retry or redirect.
outcome from_error(schemas::client::Error::Reader e);

/// A structured answer (`answer`, or a default one) with the call's result
/// code and message: what the calls with answers of their own return.
template <class Answer>
Answer answer_of(const std::shared_ptr<Answer>& answer, const kv::result& res) {
  Answer out;
  if (answer)
    out = *answer;
  out.code = res.code;
  out.message = res.message;
  return out;
}

/// Whether an answer is "overloaded": the client tries again after a pause.
inline bool is_overloaded(const outcome& o) {
  return o.k == outcome::kind::done && (o.res.code == kv::result_code::overloaded ||
                                        o.lres.code == lock::result_code::overloaded);
}

/// A random number for the pauses after overloaded answers, so that many
/// clients refused together do not come back together.
std::uint64_t jitter();

/// A call's `last_error` until some try fails with a reason.
inline const std::string no_answer_yet = "no endpoint answered";

/// One call, from its start to its callback.
struct call {
  op kind = op::get;
  std::string key;  ///< the key, or the prefix of a list
  std::string value;
  std::optional<std::uint64_t> if_version;
  std::uint32_t limit = 0;
  /// list: the page starts after this key; entries carry values.
  std::string start_after;
  bool with_values = false;
  // Lock-service calls.
  lock::session_id session = 0;
  std::uint64_t token = 0;  ///< check_token; ttl_ms for open_session
  lock::lock_mode mode = lock::lock_mode::exclusive;
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds delay{0};
  /// auth_change: what to change.
  std::shared_ptr<const auth_request> change;
  /// snapshot: where the pieces go (see client::snapshot).
  std::shared_ptr<const std::function<bool(const char*, std::size_t, std::uint64_t)>> sink;
  /// member_change: add (peer in `key`, client in `value`), promote or remove `member`.
  enum class member_op { add, promote, remove } member_what = member_op::add;
  std::uint32_t member = 0;
  /// member_change: the change's token, the same on every retry of the call.
  std::uint64_t member_token = 0;
  /// Writes: assigned when the write window admits it, then kept for every retry.
  std::uint64_t seq = 0;
  clock_type::time_point deadline;
  std::function<void(outcome)> done;
  std::uint64_t id = 0;
  /// Which endpoint (slot index) to try next and when: hints, failures,
  /// pauses (set when the call starts).
  std::optional<routing::leader_follower> route;
  /// The last `overloaded` answer: what the call returns if its deadline
  /// passes while it waits to try again (not `unavailable`: a node answered).
  std::optional<outcome> last_overload;
  std::string last_error = no_answer_yet;

  bool is_write() const {
    switch (kind) {
      case op::get:
      case op::list:
      case op::status:
      case op::check_token:
      case op::lock_info:
      case op::auth_list:
      case op::whoami:
      case op::snapshot:
      case op::member_list:
      // Ordered by the leader under its own request id: no seq of ours.
      case op::member_change:
      // Coalesced by the gateway under its own request id (a keep-alive
      // applied twice only moves the deadline again): it never waits behind
      // writes for the window, and so never costs a session its lease.
      case op::keep_alive:
        return false;
      default:
        return true;
    }
  }
};

using call_ptr = std::shared_ptr<call>;

/// A connection to one endpoint, shared by the calls that use it.
struct link : kj::Refcounted {
  link(kj::Own<kj::AsyncIoStream> s, capnp::ReaderOptions limits)
      : stream(kj::mv(s)),
        network(*stream, capnp::rpc::twoparty::Side::CLIENT, limits),
        rpc(capnp::makeRpcClient(network)),
        cap(bootstrap()) {}

  Ballot::Client bootstrap() {
    capnp::word scratch[4];
    std::memset(scratch, 0, sizeof(scratch));
    capnp::MallocMessageBuilder message{scratch};
    auto vat = message.getRoot<capnp::rpc::twoparty::VatId>();
    vat.setSide(capnp::rpc::twoparty::Side::SERVER);
    return rpc.bootstrap(vat).castAs<Ballot>();
  }

  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
  Ballot::Client cap;
  bool broken = false;
  /// The node refused this connection's `authenticate` (options::user):
  /// every call on it ends with unauthenticated and `refusal`.
  bool refused = false;
  std::string refusal;
};

/// The outcome of a call on a connection whose authentication was refused.
outcome refused_link(const link& l);

/// One endpoint and its connection, if any.
struct slot {
  std::string address;
  kj::Own<link> ready;
  kj::Maybe<kj::ForkedPromise<void>> connecting;
  bool connect_done = true;
};

inline kj::Duration to_kj(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() * kj::NANOSECONDS;
}

inline capnp::Text::Reader as_text(const std::string& s) {
  return {s.c_str(), s.size()};
}

inline capnp::Data::Reader as_data(const std::string& s) {
  return {reinterpret_cast<const kj::byte*>(s.data()), s.size()};
}

inline std::string to_std(capnp::Text::Reader t) {
  return {t.cStr(), t.size()};
}

inline call_ptr make_call(op kind, std::chrono::milliseconds timeout) {
  auto c = std::make_shared<call>();
  c->kind = kind;
  // The cluster may forget a client idle for two hours (README "Request ids
  // cannot lie"): no call retries anywhere near that late.
  c->deadline = clock_type::now() + std::min(timeout, max_call);
  return c;
}

using actors::random_client_id;

}  // namespace detail

using namespace detail;  // NOLINT(google-build-using-namespace): internal header

struct client::impl {
  options opts;
  /// Read by `client_id` on any thread; changed on the I/O thread only.
  std::atomic<std::uint64_t> id{0};
  /// The id is ours to renew (not given in the options).
  bool renew_id = true;
  capnp::ReaderOptions limits;
  /// Set when the nodes speak TLS (options::tls).
  std::unique_ptr<tls::context> tls;

  std::thread thread;
  std::thread::id io_thread;
  kj::Own<const kj::Executor> executor;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_signal;

  // -- I/O thread only ------------------------------------------------------
  std::vector<slot> slots;
  /// Where calls start: the last endpoint that answered.
  std::size_t preferred = 0;
  kj::AsyncIoProvider* provider = nullptr;
  kj::TaskSet* tasks = nullptr;
  std::uint64_t next_call = 0;
  std::map<std::uint64_t, call_ptr> live;
  bool closed = false;
  /// The writes' request ids (`id` mirrors its id for other threads).
  paxos::request_ids ids{0};
  /// The write window: seqs in flight, and writes waiting for a seq.
  std::set<std::uint64_t> writes_in_flight;
  std::deque<call_ptr> waiting_writes;
  /// When the last write in flight finished.
  clock_type::time_point writes_idle_since{};

  void run(std::promise<void>& ready);
  void submit(const call_ptr& c);
  outcome wait(const call_ptr& c);
  void start(const call_ptr& c);
  void admit_writes();
  void attempt(const call_ptr& c);
  void on_outcome(const call_ptr& c, std::size_t at, outcome o);
  void finish(const call_ptr& c, outcome o);
  std::size_t slot_for(const std::string& address);
  kj::Promise<kj::Own<link>> get_link(std::size_t i);
  /// A freshly connected stream to `address`, through a TLS handshake when
  /// the client uses TLS.
  kj::Promise<kj::Own<kj::AsyncIoStream>> secure(kj::Own<kj::AsyncIoStream> stream,
                                                 const std::string& address);
  kj::Promise<outcome> send(link& l, const call& c, const std::string& address);
  /// put, get, del, list and status (client_kv.cpp).
  kj::Promise<outcome> send_kv(link& l, const call& c, const std::string& address);
  /// Sessions, locks and ephemeral keys (client_locks.cpp).
  kj::Promise<outcome> send_lock(link& l, const call& c);
  kj::Promise<outcome> send_session_call(link& l, const call& c);
  kj::Promise<outcome> send_lock_call(link& l, const call& c);
  /// Authenticates a new connection as options::user (if set) before any
  /// other call uses it; resolves to it, marked `refused` if the node said no.
  kj::Promise<kj::Own<link>> authenticate(kj::Own<link> l);
  kj::Promise<outcome> send_auth(link& l, const call& c);
  /// snapshot: the call, then the stream's pieces to the call's sink.
  kj::Promise<outcome> send_backup(link& l, const call& c);
  /// member_list and member_change (client_members.cpp).
  kj::Promise<outcome> send_members(link& l, const call& c);

  /// Secrets of the sessions this client opened (or adopted): every later
  /// call on a session carries its secret, whichever node it reaches.
  std::mutex secrets_mutex;
  std::map<lock::session_id, std::uint64_t> secrets;
  static constexpr std::size_t max_secrets = 100'000;
  void remember_secret(lock::session_id session, std::uint64_t secret) {
    std::lock_guard<std::mutex> guard{secrets_mutex};
    if (secret != 0 && (secrets.size() < max_secrets || secrets.count(session) != 0))
      secrets[session] = secret;
  }
  std::uint64_t secret_of(lock::session_id session) {
    std::lock_guard<std::mutex> guard{secrets_mutex};
    auto it = secrets.find(session);
    return it == secrets.end() ? 0 : it->second;
  }
  /// A new leader follower for `w`'s tries, starting at slot `start`.
  void follow_watch(const std::shared_ptr<struct watch_state>& w, std::size_t start);
  void run_watch(const std::shared_ptr<struct watch_state>& w);
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
};

}  // namespace ballot::client
