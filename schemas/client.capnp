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
  # writes in flight; an older seq is answered `unavailable` ("expired").
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
}

struct Listing {
  entries @0 :List(KeyVersion);
  # In key order.
  truncated @1 :Bool;
  # More keys match than the limit allowed.
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

interface Ballot {
  put @0 (id :RequestId, key :Text, value :Data, condition :Precondition) -> (result :PutResult);
  # Linearizable write.

  get @1 (key :Text) -> (result :GetResult);
  # Linearizable read.

  delete @2 (id :RequestId, key :Text, condition :Precondition) -> (result :DeleteResult);
  # Linearizable delete.

  list @3 (prefix :Text, limit :UInt32) -> (result :ListResult);
  # Linearizable listing of the keys under a prefix; limit 0 = the node's cap.

  status @4 () -> (result :StatusResult);
  # Cluster health as the answering node sees it.
}
