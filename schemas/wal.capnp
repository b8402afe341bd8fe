# The records of Ballot's write-ahead log (runtime/wal). Each record is one
# Cap'n Proto message, framed on disk as [u32 length][u32 CRC32C][payload].
#
# This is a disk format: change it only by adding fields or union members with
# new ordinals, never by renumbering or retyping, or old logs stop replaying.
@0x93b5eb4493800330;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ballot::schemas::wal");

# (round, node): the total order of proposals.
struct Ballot {
  round @0 :UInt64;
  node @1 :UInt32;
}

# One client command; (client, seq) identifies it across retries.
struct Command {
  client @0 :UInt64;
  seq @1 :UInt64;
  payload @2 :Data;
  fingerprint @3 :UInt64;
  # The state machine's fingerprint of the payload, as the leader computed it
  # when it ordered the command; 0 (records from before) means "compute it".
}

# The value of one slot: a batch of commands; empty means a no-op.
struct Value {
  commands @0 :List(Command);
}

struct Record {
  union {
    # The acceptor promised not to accept below this ballot.
    promise @0 :Ballot;

    # The acceptor voted for `value` at `ballot` in `slot`.
    vote :group {
      slot @1 :UInt64;
      ballot @2 :Ballot;
      value @3 :Value;
    }

    # `value` is chosen in `slot`.
    chosen :group {
      slot @4 :UInt64;
      value @5 :Value;
    }

    # The value of this acceptor's own vote at `ballot` in `slot` (a vote
    # record earlier in the log, or in the checkpoint) is chosen: the value
    # is not written twice.
    chosenVote :group {
      slot @6 :UInt64;
      ballot @7 :Ballot;
    }
  }
}

# -- Snapshot files (snapshot-<16 hex digits of `snapshot.last`>.snap) --------
#
# A checkpoint compacts the log: one file, framed like a record, holds the
# whole durable state at that point, and the segments before `nextRecord`
# are deleted. Unlike records, a checkpoint is not limited to a segment's
# record size (only by its u32 length field).

# One client's entry in the replicated dedup table: the results of its most
# recent applied sequence numbers, and the seq at or below which it forgot.
struct ClientRecord {
  client @0 :UInt64;
  results @1 :List(Result);
  forgotten @2 :UInt64;

  struct Result {
    seq @0 :UInt64;
    result @1 :Data;
    fingerprint @2 :UInt64;
    # Identifies the command that applied under this seq (0 = unknown), so a
    # reused request id with another command is refused, not answered.
  }

  lastActiveMs @3 :UInt64;
  # Log time of the client's last applied command: idle clients leave the table.
}

# The applied state after slot `last`: the user state machine's snapshot and
# the dedup table.
struct Snapshot {
  last @0 :UInt64;
  machine @1 :Data;
  clients @2 :List(ClientRecord);
  # The membership epochs that govern the slots after `last`
  # (actors/paxos/membership.hpp, text). Empty in a snapshot written before
  # membership was replicated: the bootstrap configuration (--peers).
  members @3 :Text;
}

# The content of a snapshot file.
struct Checkpoint {
  snapshot @0 :Snapshot;

  # The rest of the durable state at the checkpoint (the promise, and the
  # votes and chosen values after `snapshot.last`), as the records a replay
  # would apply, in order. Kept here rather than rewritten into the log so
  # that renaming the file is the one atomic step that commits the whole
  # new state.
  records @1 :List(Record);

  # The index of the first log record written after the checkpoint: replay
  # continues with the segment that starts there; older segments are obsolete.
  nextRecord @2 :UInt64;
}
