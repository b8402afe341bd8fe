#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/kv/event.hpp"
#include "actors/kv/result.hpp"
#include "actors/lock/result.hpp"
#include "actors/lock/types.hpp"
#include "runtime/client/auth_types.hpp"

/// The C++ client of a Ballot cluster over Cap'n Proto RPC
/// (schemas/client.capnp). This header needs neither CAF nor Cap'n Proto.
namespace ballot::client {

/// Longest a call retries, whatever `options::timeout` says: well within
/// the two hours after which the cluster may forget an idle client's request
/// ids (README "Request ids cannot lie"). One hour of waiting for a lock
/// (the longest wait) plus five minutes.
inline constexpr std::chrono::milliseconds max_call{3'900'000};

/// A client that wrote nothing for this long takes a fresh id for its next
/// write (unless its id was given): the cluster may have forgotten the old
/// one, and then refuses its later seqs `expired`.
inline constexpr std::chrono::milliseconds fresh_id_after{1'800'000};

struct options {
  /// Nodes to talk to, "host:port" each. Any live one will do: nodes forward
  /// to the leader themselves, and the client moves on when one is down.
  std::vector<std::string> endpoints{"127.0.0.1:7400"};
  /// Longest one call takes, retries and fail-over included; then it returns
  /// `result_code::unavailable`.
  std::chrono::milliseconds timeout{5000};
  /// Longest one try at one endpoint waits (connecting included) before the
  /// client tries the next: what gets it past a frozen node. Shorter than a
  /// gateway's own request timeout (5 s by default): a write given up on here
  /// is retried elsewhere with the same id, which the leader recognises (it
  /// is ordered once), so the cost of moving on early is a second transfer.
  std::chrono::milliseconds attempt_timeout{2500};
  /// Names this client's writes in the cluster's deduplication tables; 0
  /// picks a random one (and a fresh one after `fresh_id_after` without
  /// writes). Two live clients must never share an id. A given id is kept:
  /// after two idle hours its writes past the 64th may be refused `expired`.
  std::uint64_t client_id = 0;
  /// Most writes in flight at once (the cluster remembers 64 per client id);
  /// further writes wait their turn inside the client.
  std::size_t max_writes_in_flight = 32;
  /// Replies larger than this close the connection.
  std::size_t max_message_bytes = 64u << 20;

  /// TLS to the nodes (README, "Securing a cluster"); off while `ca_file`
  /// is empty. Every connection, a reconnect included, makes a new handshake.
  struct tls_options {
    /// PEM file of the CA that signed the nodes' certificates, the only one
    /// trusted (never the system's store). Setting it turns TLS on.
    std::string ca_file;
    /// This client's certificate and its private key (PEM files), for nodes
    /// that require client certificates: both or neither.
    std::string cert_file;
    std::string key_file;
    /// The name a node's certificate must carry as a subjectAltName DNS
    /// entry. Empty: the host of the endpoint dialled. KJ's TLS (OpenSSL's
    /// host check) matches DNS names only, never IP address entries: to dial
    /// nodes by IP address, give them certificates with a common DNS name
    /// and put that name here.
    std::string server_name;
  } tls;

  /// With a user set, every connection (a reconnect included) first calls
  /// `authenticate(user, password)` and nothing else until it is answered.
  /// A refusal is final for the call: it ends with `unauthenticated` instead
  /// of trying other nodes (wrong credentials are wrong at every node).
  /// Empty: the connection is anonymous, or the client certificate's common
  /// name (options::tls) names the user.
  std::string user;
  std::string password;
};

/// One member of the cluster as the answering node sees it.
struct member_status {
  std::uint32_t id = 0;
  bool up = false;
  bool is_leader = false;
  std::uint64_t commit_index = 0;
  /// Its client endpoint, empty when the answering node does not know it.
  std::string endpoint;
  /// A non-voting member.
  bool learner = false;
  /// Slots behind the leader as both reported (0 when unknown).
  std::uint64_t lag = 0;
};

/// The answer to `status`.
struct cluster_status {
  /// ok, or unavailable (then `message` says why).
  kv::result_code code = kv::result_code::ok;
  std::string message;
  /// The endpoint that answered and its node id.
  std::string answered_by;
  std::uint32_t node_id = 0;
  /// 0 when no leader is known.
  std::uint32_t leader_id = 0;
  std::uint64_t commit_index = 0;
  std::vector<member_status> members;

  bool ok() const { return code == kv::result_code::ok; }
};

/// A client: one I/O thread running a KJ event loop, one connection per
/// endpoint (opened when first needed, re-opened after a failure).
///
/// Every call ends within `options::timeout`: with the cluster's answer (ok,
/// not_found, version_mismatch, bad_request, quota_exceeded,
/// request_id_reused) or with unavailable. An `overloaded` answer (nothing was
/// done) is tried again, with the same request id, after pauses growing from
/// 10-20 ms to 100-200 ms (jittered), until the timeout; then the call returns
/// overloaded (with the node's reason in `message`). A write is
/// numbered once (client id, seq) and every retry, on any endpoint, carries
/// the same number, so it applies at most once however often it is retried.
///
/// Blocking calls may come from any thread (not from inside a callback).
/// Asynchronous calls return at once and run `done` on the client's I/O
/// thread when the call ends; `done` must not block, but may start further
/// asynchronous calls, which is how one client keeps many requests in flight.
/// From another thread, an asynchronous call waits until the I/O thread has
/// taken it (not answered it): do not hold a lock that a callback takes while
/// making one, or the two threads wait for each other.
/// A running watch (see `client::watch`). Destroying it stops the watch.
class watch_handle {
 public:
  virtual ~watch_handle() = default;
  /// The revision the watcher has seen every change up to.
  virtual std::uint64_t revision() const = 0;
  /// A from-now watch has learnt its start revision from a node: changes
  /// committed from here on are certain to be delivered.
  virtual bool started() const = 0;
};

/// How an online backup went (see `client::snapshot`).
struct backup_result {
  /// ok; overloaded with `busy` when the node streams another backup;
  /// permission_denied or unauthenticated; unavailable.
  kv::result_code code = kv::result_code::ok;
  std::string message;
  bool busy = false;
  std::uint64_t total_bytes = 0;
  std::uint64_t received = 0;
  std::uint64_t applied_index = 0;
  std::uint64_t revision = 0;
  bool ok() const { return code == kv::result_code::ok; }
};

/// One member as the leader's membership names it (see `client::member_list`).
struct member_info {
  std::uint32_t id = 0;
  bool learner = false;
  std::string peer_address;
  /// Empty for members bootstrapped by `--peers`.
  std::string client_address;
  /// Slots behind the leader, when the leader heard from it.
  std::optional<std::uint64_t> lag;
};

/// The answer to `member_list`.
struct member_listing {
  /// ok, or why not (unavailable, ...; then `message` says why).
  kv::result_code code = kv::result_code::ok;
  std::string message;
  std::vector<member_info> members;
  /// The configuration of slot 1 (what a joining node replays from).
  std::vector<member_info> bootstrap;
  std::uint32_t leader_id = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t alpha = 0;
  std::uint32_t next_id = 0;
  /// The raw 32 bytes of the cluster id.
  std::string cluster_id;
  bool ok() const { return code == kv::result_code::ok; }
};

/// The answer to a membership change: ok with the member's id, or the
/// refusal (bad_request: the change cannot apply; unavailable: no leader,
/// or a learner still far behind; permission_denied; ...).
struct member_result {
  kv::result_code code = kv::result_code::ok;
  std::string message;
  std::uint32_t id = 0;
  bool ok() const { return code == kv::result_code::ok; }
};

class client {
 public:
  using callback = std::function<void(kv::result)>;
  using lock_callback = std::function<void(lock::result)>;
  using status_callback = std::function<void(cluster_status)>;
  /// Events in commit order, and the revision they bring the watcher to.
  using events_callback = std::function<void(std::vector<kv::event>, std::uint64_t)>;

  /// Starts the I/O thread. Throws std::invalid_argument naming a malformed
  /// endpoint, or when there is none, or naming a TLS file that cannot be
  /// read or used.
  explicit client(options opts = {});

  /// Stops the I/O thread; asynchronous calls still running end with
  /// unavailable ("the client was closed").
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// ok: `version` is the key's new version. With `if_version`, only if the
  /// key's version equals it (0: only if absent), else version_mismatch with
  /// the current version.
  kv::result put(const std::string& key, const std::string& value,
                 std::optional<std::uint64_t> if_version = std::nullopt);

  /// Linearizable read. ok: `value` and `version`; not_found if absent.
  kv::result get(const std::string& key);

  /// Linearizable delete; `if_version` as for put. not_found if absent.
  kv::result del(const std::string& key, std::optional<std::uint64_t> if_version = std::nullopt);

  /// The keys under `prefix` in key order (`entries`), at most `limit` (0:
  /// the node's cap); `truncated` when more match.
  kv::result list(const std::string& prefix, std::uint32_t limit = 0);

  /// One page of a listing: the keys under `prefix` after `start_after` (""
  /// = from the first), at most `limit` (0: the node's cap), with their
  /// values if `with_values`. A node also ends a page at its byte bound.
  /// While `truncated`, the next page starts after the last entry's key.
  kv::result list(const std::string& prefix, std::uint32_t limit, const std::string& start_after,
                  bool with_values);

  /// Cluster health as the first node that answers sees it.
  cluster_status status();

  void async_put(const std::string& key, const std::string& value,
                 std::optional<std::uint64_t> if_version, callback done);
  void async_get(const std::string& key, callback done);
  void async_del(const std::string& key, std::optional<std::uint64_t> if_version, callback done);
  void async_list(const std::string& prefix, std::uint32_t limit, callback done);
  void async_list(const std::string& prefix, std::uint32_t limit, const std::string& start_after,
                  bool with_values, callback done);
  void async_status(status_callback done);

  // -- The lock service. Results are `lock::result`s: ok; no_session (the
  // session expired or was closed: open a new one); busy (a try-lock);
  // timeout (a waiting acquire, which no longer waits); not_held;
  // bad_request; limit_reached (a cap on sessions or on a lock's waiters;
  // `message` names it); quota_exceeded (put_ephemeral over the state's
  // quota); request_id_reused; overloaded (as above); unavailable (no answer
  // in time; a retry is safe: requests keep their id).

  /// A session living `ttl` past its last keep-alive: `session`, `deadline`
  /// (log time, ms). Prefer `session` (session.hpp), which keeps it alive.
  lock::result open_session(std::chrono::milliseconds ttl);
  lock::result keep_alive(lock::session_id session);
  /// Releases its locks (no lock-delay) and deletes its ephemeral keys.
  lock::result close_session(lock::session_id session);

  /// Every session has a secret that its calls must carry (see
  /// schemas/client.capnp `Session.secret`); the client keeps those of the
  /// sessions it opened and sends them by itself. The secret `open_session`
  /// answered (also in its result's `token`), to hand to another client:
  std::uint64_t session_secret(lock::session_id session) const;
  /// Lets this client act on a session another client opened.
  void adopt_session(lock::session_id session, std::uint64_t secret);

  /// Takes `name` for `session`. `wait` 0 is a try-lock (busy if taken);
  /// otherwise waits up to `wait` in FIFO order (timeout if not granted).
  /// ok: `token`, the fencing token. `lock_delay` (<= 60 s): if the session
  /// expires holding the lock, nobody gets it for that long.
  lock::result acquire(lock::session_id session, const std::string& name,
                       lock::lock_mode mode = lock::lock_mode::exclusive,
                       std::chrono::milliseconds wait = std::chrono::milliseconds{0},
                       std::chrono::milliseconds lock_delay = std::chrono::milliseconds{0});
  lock::result release(lock::session_id session, const std::string& name);

  /// ok if `token` is a current holder's fencing token of `name`, else stale.
  lock::result check_token(const std::string& name, std::uint64_t token);

  /// `holders`, `waiters` (in queue order) and `deadline` = end of a lock-delay.
  lock::result lock_info(const std::string& name);

  /// A key bound to `session` (deleted when it ends); ok: `revision`.
  lock::result put_ephemeral(lock::session_id session, const std::string& key,
                             const std::string& value);

  void async_open_session(std::chrono::milliseconds ttl, lock_callback done);
  void async_keep_alive(lock::session_id session, lock_callback done);
  void async_close_session(lock::session_id session, lock_callback done);
  void async_acquire(lock::session_id session, const std::string& name, lock::lock_mode mode,
                     std::chrono::milliseconds wait, lock_callback done);
  void async_release(lock::session_id session, const std::string& name, lock_callback done);

  /// Streams every change of `key` (every key starting with it, with
  /// `prefix`) after `from_revision` (nullopt: from now) to `on_events`, in commit
  /// order and without gaps, on the client's I/O thread. When a node fails
  /// the watch resumes on another from the last revision, by itself.
  /// `on_end` runs once if the watch cannot go on: compacted (the history no
  /// longer reaches back; `revision` is the current one: re-read and watch
  /// anew), bad_request, unauthenticated or permission_denied. Destroying the handle stops the
  /// watch.
  std::unique_ptr<watch_handle> watch(const std::string& key, bool prefix,
                                      std::optional<std::uint64_t> from_revision,
                                      events_callback on_events, lock_callback on_end = nullptr);

  // -- Users, roles and authentication (client_auth.cpp). Changes are writes
  // (with a request id, so a retry applies once) and need the root role once
  // authentication is on; `auth_enable` is refused (bad_request) unless some
  // user has the root role. See auth_types.hpp for the answers.

  /// `password` "" makes a user that can only present a client certificate.
  auth_result user_add(const std::string& name, const std::string& password);
  auth_result user_delete(const std::string& name);
  auth_result user_passwd(const std::string& name, const std::string& password);
  /// `role` "root" grants everything, user and role changes included.
  auth_result user_grant(const std::string& user, const std::string& role);
  auth_result user_revoke(const std::string& user, const std::string& role);
  auth_result role_add(const std::string& name);
  auth_result role_delete(const std::string& name);
  auth_result role_grant(const std::string& role, const permission& perm);
  auth_result role_revoke(const std::string& role, const permission& perm);
  auth_result auth_enable();
  auth_result auth_disable();
  /// Users (without password hashes), roles and the switch, read from the
  /// cluster; needs the root role once authentication is on.
  auth_listing auth_list();
  /// Who this client's connection acts as; open to everybody.
  identity whoami();

  /// Takes an online backup of the cluster (schemas/client.capnp
  /// `snapshot`): the leader's whole state at one applied index, as the
  /// bytes of a backup file. `sink` gets each piece in order, on the
  /// client's I/O thread, with the file's total size; it returns false to
  /// stop (the call then ends with `unavailable`). Tried on another node
  /// while no piece has come; a stream that breaks after that ends the call
  /// (a new backup is a new file). `timeout` bounds the whole transfer.
  backup_result snapshot(
    const std::function<bool(const char* data, std::size_t n, std::uint64_t total)>& sink,
    std::chrono::milliseconds timeout);

  // -- Membership (README "Changing the membership"); changes need the root
  // role once authentication is on.
  /// The members as the leader applied them, with its view of their lag.
  member_listing member_list();
  /// Adds a learner reachable at `peer` (other members) and `client`
  /// ("host:port" each); its new id in `member_result::id`.
  member_result member_add(const std::string& peer, const std::string& client);
  /// Makes learner `id` a voter (refused while it is far behind).
  member_result member_promote(std::uint32_t id);
  member_result member_remove(std::uint32_t id);

  /// Runs `fn` on the client's I/O thread after `delay` (unless the client
  /// closes first). For helpers such as `session`'s keep-alive loop.
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);

  /// The id this client's writes carry.
  std::uint64_t client_id() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ballot::client
