#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "actors/paxos/ready.hpp"

/// The write-ahead log's records and their Cap'n Proto encoding
/// (schemas/wal.capnp). Cap'n Proto types stay inside codec.cpp: the rest of
/// the log sees records and byte strings only.
namespace ballot::wal {

/// The acceptor promised `ballot`.
struct promise_record {
  paxos::ballot_number ballot;
};

/// The acceptor voted for `vote.val` at `vote.ballot` in `slot`.
struct vote_record {
  paxos::slot_index slot = 0;
  paxos::accepted_value vote;
};

/// `val` is chosen in `slot`.
struct chosen_record {
  paxos::slot_index slot = 0;
  paxos::value val;
};

/// The value of this acceptor's vote at `ballot` in `slot` is chosen (the
/// vote is earlier in the log, so the value is written once).
struct chosen_vote_record {
  paxos::slot_index slot = 0;
  paxos::ballot_number ballot;
};

using record = std::variant<promise_record, vote_record, chosen_record, chosen_vote_record>;

bool operator==(const promise_record& a, const promise_record& b);
bool operator==(const vote_record& a, const vote_record& b);
bool operator==(const chosen_record& a, const chosen_record& b);
bool operator==(const chosen_vote_record& a, const chosen_vote_record& b);

/// A payload that is not a record: a good checksum over bad content means a
/// bug or a log written by an incompatible version, never a torn write.
class codec_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Append the encoding of one record to `out` (which they do not clear).
/// They take the parts by reference so that persisting a `ready` copies no
/// command payloads into temporary records.
void encode_promise(const paxos::ballot_number& ballot, std::string& out);
void encode_vote(paxos::slot_index slot, const paxos::accepted_value& vote, std::string& out);
void encode_chosen(paxos::slot_index slot, const paxos::value& val, std::string& out);
void encode_chosen_vote(paxos::slot_index slot, const paxos::ballot_number& ballot,
                        std::string& out);
void encode(const record& rec, std::string& out);

/// Decodes one payload; throws `codec_error` if it is not exactly one record.
record decode(std::string_view payload);

/// The size of the whole payload as its own header states it, given at
/// least its first bytes; nullopt while `prefix` is too short to tell. The
/// log uses it to tell a torn last record from a corrupted length field.
std::optional<std::size_t> encoded_size(std::string_view prefix);

/// The content of a snapshot file: the whole durable state at a checkpoint
/// (its `snap` is always set) and the index of the first log record written
/// after it.
struct checkpoint_record {
  paxos::durable_state state;
  std::uint64_t next_record = 0;
};

/// Appends the encoding of a checkpoint to `out`. `state.snap` must be set
/// (std::invalid_argument otherwise); throws codec_error if the state does
/// not fit Cap'n Proto's limits (a state machine snapshot of 512 MiB or more
/// with `with_machine`). Without `with_machine` the machine's bytes are left
/// out (and never made): a snapshot file's header, whose body holds them.
void encode_checkpoint(const paxos::durable_state& state, std::uint64_t next_record,
                       std::string& out, bool with_machine = true);

/// Decodes a snapshot file's header (or the whole payload of a single-frame
/// one); throws `codec_error` if it is not exactly one checkpoint with a
/// snapshot. The machine's bytes are those in the header, if any.
checkpoint_record decode_checkpoint(std::string_view payload);

/// The slot a vote or chosen record is about; nullopt for a promise.
std::optional<paxos::slot_index> slot_of(const record& rec);

/// Folds one record into the state a restarted replica is rebuilt from,
/// exactly as `paxos::ready::persist_to` would have.
void apply_record(const record& rec, paxos::durable_state& state);

}  // namespace ballot::wal
