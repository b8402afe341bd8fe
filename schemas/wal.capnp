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
  }
}
