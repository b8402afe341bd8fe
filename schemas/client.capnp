@0x81882be3c722b080;
# The client contract of Ballot: Cap'n Proto RPC on every node's `--client`
# endpoint. The bootstrap capability of a connection is a `Ballot`.
#
# Every node serves every call: a follower forwards writes and reads to the
# leader itself, so a client need not find the leader. Refusals and failures are
# explicit `Error` variants, never RPC exceptions; an RPC exception or a closed
# connection means only that this node or the connection failed (try another).
#
# Limits: a node closes a connection that sends a message larger than its limit
# (default 16 MiB), and answers `badRequest` to keys over 4 KiB or values over
# 1 MiB (the node's options may change these).

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ballot::schemas::client");

struct RequestId {
  # Names one write across retries: the cluster applies a (clientId, seq) at
  # most once, and a retry gets the first attempt's answer. A client picks a
  # random clientId, numbers its writes 1, 2, 3, ... and retries a write (after a
  # timeout or on another node) with the same seq. A client may have at most 64
  # writes in flight; an older seq is refused `expired` (unknown whether it
  # applied: the client takes a fresh clientId for its next write).
  clientId @0 :UInt64;
  seq @1 :UInt64;
}

struct Precondition {
  union {
    none @0 :Void;
    # Unconditional.
    ifVersion @1 :UInt64;
    # Only if the key's current version equals this; 0 means "only if absent".
  }
}

struct LeaderHint {
  leaderId @0 :UInt32;
  # 0 when no leader is known (an election is running).
  endpoint @1 :Text;
  # The leader's client endpoint "host:port"; empty when not known here.
}

struct Error {
  union {
    notFound @0 :Void;
    # The key is absent.
    versionMismatch @1 :UInt64;
    # The precondition failed; this is the key's current version (0 = absent).
    notLeader @2 :LeaderHint;
    # This node could not reach the leader for you; retry at the hint.
    unavailable @3 :Text;
    # No answer from the cluster in time (no leader, no quorum, or the request
    # expired). A write may or may not have applied: retry with the same
    # RequestId to find out safely.
    badRequest @4 :Text;
    # The request is invalid (empty or oversized key, oversized value, ...);
    # the text names the bad field and value. Retrying will not help.
    noSession @5 :UInt64;
    # This session is unknown, closed or expired (its locks and ephemeral
    # keys are gone). Open a new one.
    busy @6 :Void;
    # Try-lock: the lock is held in a conflicting mode, queued for, or in
    # its lock-delay. snapshot: this node streams another backup now (one
    # at a time); retry later or on another node.
    timeout @7 :Void;
    # A waiting acquire was not granted within its wait; it no longer waits.
    notHeld @8 :Void;
    # Release: the session does not hold the lock.
    compacted @9 :UInt64;
    # Watch: the history no longer reaches back to the requested revision;
    # this is the oldest revision a watch can resume from. Re-read the keys.
    overloaded @10 :Text;
    # The node is over one of its budgets (bytes or count of calls in flight,
    # connections from one address, proposals waiting at the leader, a
    # watcher's undelivered bytes); the text names it. Nothing was done:
    # retry after a short pause (with the same RequestId for a write).
    quotaExceeded @11 :UInt64;
    # The write would grow the state while it is over the cluster's quota
    # (this many bytes). Nothing was done; deletes, reads, sessions and locks
    # go on, and the refusal ends once deletes bring the state under it.
    requestIdReused @12 :Void;
    # This RequestId already named a different command (another key, value
    # or operation). Nothing was done: give every new write a new seq.
    limitReached @13 :Text;
    # A configured cap on the state is reached (sessions in the cluster,
    # waiters on one lock); the text names it. Nothing was done; retry after
    # others finish.
    unauthenticated @14 :Text;
    # Authentication is on and this connection has no user (call
    # `authenticate`, or present a client certificate whose common name is a
    # user), or the user name or password is wrong. Nothing was done.
    permissionDenied @15 :Text;
    # The connection's user lacks the permission (the text names the
    # operation and the key or lock name), or the session belongs to another
    # user or was named without its secret. Nothing was done.
    alreadyExists @16 :Text;
    # authChange: the user, the role or the grant exists already (the text
    # names it). Nothing was done.
    expired @17 :Text;
    # The cluster no longer remembers this RequestId's client (idle longer
    # than its deduplication table keeps clients, or more writes in flight
    # than its window): whether the write applied is unknown, and a retry
    # with the same RequestId gets this again. Read the key to find out;
    # take a fresh clientId for new writes.
  }
}

struct Entry {
  key @0 :Text;
  value @1 :Data;
  version @2 :UInt64;
  # The store revision of the key's last put; strictly increases per key.
}

struct KeyVersion {
  key @0 :Text;
  version @1 :UInt64;
  value @2 :Data;
  # The key's value; set only when the listing was asked withValues.
}

struct Listing {
  entries @0 :List(KeyVersion);
  # In key order.
  truncated @1 :Bool;
  # More keys match than the limit (or the node's page bounds: entries,
  # bytes) allowed: list again with startAfter = the last entry's key.
  revision @2 :UInt64;
  # The store's revision when the listing was taken.
}

struct PutResult {
  union {
    version @0 :UInt64;
    # The key's new version.
    error @1 :Error;
  }
}

struct GetResult {
  union {
    entry @0 :Entry;
    error @1 :Error;
  }
}

struct DeleteResult {
  union {
    revision @0 :UInt64;
    # The store revision of the delete.
    error @1 :Error;
  }
}

struct ListResult {
  union {
    listing @0 :Listing;
    error @1 :Error;
  }
}

struct Member {
  id @0 :UInt32;
  up @1 :Bool;
  # It answered the answering node's status probe within the probe timeout.
  isLeader @2 :Bool;
  # It says it leads.
  commitIndex @3 :UInt64;
  # As it reported it; 0 when down.
  endpoint @4 :Text;
  # Its client endpoint "host:port", empty when the answering node does not know it.
  learner @5 :Bool;
  # A non-voting member (it catches up and follows, counts in no quorum).
  lag @6 :UInt64;
  # Slots behind the leader (the leader's commit index less its own, as
  # both reported them); 0 when either is unknown.
}

struct ClusterStatus {
  nodeId @0 :UInt32;
  # The node that answered.
  leaderId @1 :UInt32;
  # 0 when no leader is known.
  commitIndex @2 :UInt64;
  # The leader's commit index when it answered, else the answering node's.
  members @3 :List(Member);
}

struct StatusResult {
  union {
    status @0 :ClusterStatus;
    error @1 :Error;
  }
}

# -- The lock service: sessions, locks with fencing tokens, watches ----------

struct Session {
  id @0 :UInt64;
  deadlineMs @1 :UInt64;
  # Log time (the leader's clock, ms since the epoch) at which the session
  # expires unless kept alive. Keep alive well before: every ttl/3.
  secret @2 :UInt64;
  # Drawn by the node when the session opens; only openSession returns it.
  # Every later call on the session must carry it (and come from the same
  # user): with a wrong one the call is refused with permissionDenied, so a
  # known or guessed session id is useless to anyone else.
}

struct SessionResult {
  union {
    session @0 :Session;
    error @1 :Error;
  }
}

enum LockMode {
  exclusive @0;
  shared @1;
}

struct AcquireResult {
  union {
    token @0 :UInt64;
    # Granted: the fencing token (sequencer) of this grant. Tokens strictly
    # increase per lock name over its whole history. Also the answer when
    # the session holds the lock already.
    error @1 :Error;
  }
}

struct DoneResult {
  union {
    ok @0 :Void;
    error @1 :Error;
  }
}

struct CheckTokenResult {
  union {
    valid @0 :Bool;
    # True if the token is a current holder's token of the lock.
    error @1 :Error;
  }
}

struct Holder {
  session @0 :UInt64;
  mode @1 :LockMode;
  token @2 :UInt64;
  # 0 for a waiter.
}

struct LockInfo {
  holders @0 :List(Holder);
  waiters @1 :List(Holder);
  # In queue order.
  delayUntilMs @2 :UInt64;
  # The end of a pending lock-delay (0 = none).
}

struct LockInfoResult {
  union {
    info @0 :LockInfo;
    error @1 :Error;
  }
}

enum EventType {
  put @0;
  delete @1;
}

struct Event {
  revision @0 :UInt64;
  type @1 :EventType;
  key @2 :Text;
  value @3 :Data;
}

interface WatchSink {
  events @0 (events :List(Event), revision :UInt64) -> ();
  # Every change of the watched keys after the last call, in commit order,
  # with no gaps; `revision` is the store revision they bring the watcher to
  # (resume a broken watch from it). The node waits for each call to return
  # before the next: a slow sink slows only its own watch.
}

struct WatchEnd {
  error @0 :Error;
  # Why the watch ended: compacted (the history no longer reaches back; it
  # carries the current revision: re-read the keys and watch on from it), or
  # unavailable (this node cannot serve it now; resume elsewhere from the
  # last revision the sink got).
}

interface Ballot {
  put @0 (id :RequestId, key :Text, value :Data, condition :Precondition) -> (result :PutResult);
  # Linearizable write.

  get @1 (key :Text) -> (result :GetResult);
  # Linearizable read.

  delete @2 (id :RequestId, key :Text, condition :Precondition) -> (result :DeleteResult);
  # Linearizable delete.

  list @3 (prefix :Text, limit :UInt32, startAfter :Text, withValues :Bool)
      -> (result :ListResult);
  # Linearizable listing of the keys under a prefix, in key order; limit 0 =
  # the node's cap. One page: only keys after startAfter (empty = from the
  # first), with their values if withValues. A node also ends a page before
  # its keys and values pass its byte bound (4 MiB by default; at least one
  # entry). Page through any number of keys with startAfter = the last key
  # of the previous page while `truncated`.

  status @4 () -> (result :StatusResult);
  # Cluster health as the answering node sees it.

  openSession @5 (id :RequestId, ttlMs :UInt64) -> (result :SessionResult);
  # A new session living ttlMs (1 ms .. 1 h) past its last keep-alive, on
  # the leader's clock. A leader change grants every session a grace, so an
  # election kills no healthy session.

  keepAlive @6 (id :RequestId, session :UInt64, secret :UInt64) -> (result :SessionResult);
  # `secret` is the one openSession returned (also for the calls below).
  # `id` may be left zero and does not count against the 64 writes in
  # flight: a keep-alive applied twice only moves the deadline again, so the
  # node sends the keep-alives it reads together as one log command under
  # its own request id.

  closeSession @7 (id :RequestId, session :UInt64, secret :UInt64) -> (result :DoneResult);
  # Releases its locks (without lock-delay) and deletes its ephemeral keys.

  acquire @8 (id :RequestId, session :UInt64, name :Text, mode :LockMode,
              waitMs :UInt64, lockDelayMs :UInt64, secret :UInt64) -> (result :AcquireResult);
  # waitMs 0 is a try-lock (busy if not free). Otherwise the session queues
  # (FIFO; a queued writer holds back later readers) and the call returns
  # with the token once granted, or `timeout` after waitMs (then it no longer
  # waits). lockDelayMs (<= 60000): if the session expires while holding the
  # lock, nobody gets it for that long.

  release @9 (id :RequestId, session :UInt64, name :Text, secret :UInt64)
      -> (result :DoneResult);
  # The next waiters are granted in the same committed command.

  checkToken @10 (name :Text, token :UInt64) -> (result :CheckTokenResult);
  # Linearizable: is `token` a current holder's fencing token of `name`?

  lockInfo @11 (name :Text) -> (result :LockInfoResult);
  # Once authentication is on, holders' tokens are 0 except for root and for
  # the sessions of the caller's own user.

  putEphemeral @12 (id :RequestId, session :UInt64, key :Text, value :Data, secret :UInt64)
      -> (result :PutResult);
  # A key bound to the session: deleted when the session ends.

  watch @13 (key :Text, prefix :Bool, fromRevision :UInt64, sink :WatchSink, fromNow :Bool)
      -> (result :WatchEnd);
  # Streams every change of `key` (or of every key starting with it, with
  # prefix) after fromRevision (or, with fromNow, after the current revision,
  # which the first sink call reports) to the sink, until the caller cancels
  # the call, or it ends with an error.

  # -- Users, roles and authentication ---------------------------------------
  # Off until `enable`; then every call but status and authenticate needs a
  # user: the common name of a verified client certificate, or one set by
  # authenticate. Users, roles and the switch are replicated state.

  authenticate @14 (user :Text, password :Text) -> (result :DoneResult);
  # Binds this connection to `user` (as ZooKeeper's addauth): later calls on
  # it act as that user. unauthenticated if the name or password is wrong.

  authChange @15 (id :RequestId, change :AuthChange) -> (result :DoneResult);
  # Adds, deletes or changes users and roles, or turns authentication on or
  # off. Needs the root role once authentication is on. Passwords travel in
  # the clear inside the connection (use client TLS); the node stores only
  # an argon2id hash of them.

  authList @16 () -> (result :AuthListResult);
  # Users (with roles, without password hashes), roles (with permissions) and
  # whether authentication is on. Needs the root role once it is on.

  whoAmI @17 () -> (user :Text, root :Bool, enabled :Bool);
  # The user this connection acts as ("" = none) and whether it has the root
  # role; enabled = authentication is on (as this node has applied it).

  # -- Online backup -------------------------------------------------------
  snapshot @18 () -> (result :SnapshotResult);
  # A consistent backup of the live cluster (README "Backup and restore"):
  # the leader's whole applied state (keys, sessions, locks, users and roles,
  # the dedup table, the membership) at a linearizable read point, as the
  # bytes of a backup file (actors/backup/backup_format.hpp) that the caller
  # pulls in pieces through the stream while writes go on. One stream per
  # node at a time (`busy` otherwise); root only once authentication is on
  # (permissionDenied otherwise).

  # -- Membership (README "Changing the membership") ------------------------
  memberList @19 () -> (result :MemberListResult);
  # The members as the leader applied them (a linearizable read), with the
  # leader's view of how far behind each one is, and what a joining node
  # needs: the bootstrap configuration, alpha and the cluster id.

  memberChange @20 (change :MemberChange) -> (result :MemberChangeResult);
  # Adds a learner, promotes a learner to voter, or removes a member; the
  # answer comes once the change is in the log (it governs slots from
  # alpha slots after its own). Root only once authentication is on. A
  # retry with the same `MemberChange.token` answers as the first try did
  # and changes nothing again; without a token the node makes one, so its
  # own forwarding retries are safe, but a client's retry is then another
  # change, refused by the checks (badRequest: the address is in use, the
  # member is a voter already, or there is no such member). A promote of a
  # learner still far behind answers `unavailable` (retry once it caught up).
}

enum MemberRole {
  voter @0;
  learner @1;
}

struct MemberInfo {
  id @0 :UInt32;
  role @1 :MemberRole;
  peerAddress @2 :Text;
  # Where the other members reach it ("host:port").
  clientAddress @3 :Text;
  # Where clients reach it; empty for members bootstrapped by --peers.
  lag @4 :UInt64;
  # Slots behind the leader, when lagKnown (the leader heard from it).
  lagKnown @5 :Bool;
}

struct MemberListing {
  members @0 :List(MemberInfo);
  leaderId @1 :UInt32;
  commitIndex @2 :UInt64;
  bootstrap @3 :List(MemberInfo);
  # The configuration of slot 1, which a joining node replays the log from.
  alpha @4 :UInt64;
  # A change chosen in slot c governs slots from c + alpha on.
  clusterId @5 :Data;
  # The cluster's id (32 bytes; README "Cluster identity").
  nextId @6 :UInt32;
  # The id the next added member gets.
}

struct MemberListResult {
  union {
    listing @0 :MemberListing;
    error @1 :Error;
  }
}

struct MemberAddresses {
  peer @0 :Text;
  client @1 :Text;
}

struct MemberChange {
  union {
    addLearner @0 :MemberAddresses;
    promote @1 :UInt32;
    remove @2 :UInt32;
  }
  token @3 :UInt64;
  # The client's id for this change, the same on every retry (0: none). The
  # cluster remembers its last 64 changes' tokens and results.
}

struct MemberChangeResult {
  union {
    memberId @0 :UInt32;
    # The member added, promoted or removed.
    error @1 :Error;
  }
}

interface SnapshotStream {
  next @0 () -> (result :ChunkResult);
  # The next piece of the file (at most 1 MiB), in order; `last` is set on
  # the final one, after which the stream is over. A stream not pulled for
  # 30 s is ended by the node (its memory freed; later calls answer
  # `unavailable`); so is one whose capability the caller drops.
}

struct ChunkResult {
  union {
    chunk @0 :Data;
    error @1 :Error;
  }
  last @2 :Bool;
}

struct SnapshotInfo {
  stream @0 :SnapshotStream;
  totalBytes @1 :UInt64;
  # The size of the whole file.
  appliedIndex @2 :UInt64;
  # The log slot the state is taken at.
  revision @3 :UInt64;
  # The key/value store's revision at that point.
}

struct SnapshotResult {
  union {
    info @0 :SnapshotInfo;
    error @1 :Error;
  }
}

# -- Users and roles ---------------------------------------------------------

struct UserPassword {
  name @0 :Text;
  password @1 :Text;
  # Empty: the user can only authenticate with a client certificate.
}

struct UserRole {
  user @0 :Text;
  role @1 :Text;
}

enum PermissionKind {
  read @0;       # get, list, watch
  write @1;      # put, delete, ephemeral put
  readwrite @2;
  lock @3;       # acquire, release, checkToken, lockInfo of lock names
}

struct Permission {
  kind @0 :PermissionKind;
  prefix @1 :Text;
  # Keys (or lock names) starting with it; empty = all.
}

struct RolePermission {
  role @0 :Text;
  permission @1 :Permission;
}

struct AuthChange {
  union {
    userAdd @0 :UserPassword;
    userDelete @1 :Text;
    userPasswd @2 :UserPassword;
    userGrant @3 :UserRole;
    # The role "root" grants everything, user and role changes included.
    userRevoke @4 :UserRole;
    roleAdd @5 :Text;
    roleDelete @6 :Text;
    roleGrant @7 :RolePermission;
    roleRevoke @8 :RolePermission;
    enable @9 :Void;
    # Refused (badRequest) unless some user has the root role.
    disable @10 :Void;
  }
}

struct AuthUser {
  name @0 :Text;
  roles @1 :List(Text);
  hasPassword @2 :Bool;
}

struct AuthRole {
  name @0 :Text;
  permissions @1 :List(Permission);
}

struct AuthListing {
  enabled @0 :Bool;
  users @1 :List(AuthUser);
  roles @2 :List(AuthRole);
}

struct AuthListResult {
  union {
    listing @0 :AuthListing;
    error @1 :Error;
  }
}
