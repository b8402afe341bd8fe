#include "runtime/wal/wal_storage.hpp"

#include <utility>

#include "runtime/wal/codec.hpp"

namespace ballot::wal {

namespace {

wal_options with_payload_check(wal_options opts) {
  if (!opts.payload_size)
    opts.payload_size = encoded_size;
  return opts;
}

}  // namespace

wal_storage::wal_storage(wal_options opts) : log_(with_payload_check(std::move(opts))) {
  // nop
}

paxos::durable_state wal_storage::load() {
  paxos::durable_state state;
  // A payload that fails to decode throws codec_error; the log turns it into
  // a storage_error naming the segment and offset.
  report_ = log_.replay([&](std::string_view payload, const record_position&) {
    apply_record(decode(payload), state);
  });
  return state;
}

void wal_storage::append(const paxos::ready& rd) {
  // Same order as ready::persist_to. Each record is framed on its own, so a
  // torn write loses whole records only; replaying any prefix of a ready is
  // safe because none of it was acknowledged before the sync.
  if (rd.promised) {
    scratch_.clear();
    encode_promise(*rd.promised, scratch_);
    log_.append(scratch_);
  }
  for (auto& [slot, vote] : rd.accepted) {
    scratch_.clear();
    encode_vote(slot, vote, scratch_);
    log_.append(scratch_);
  }
  for (auto& entry : rd.chosen) {
    scratch_.clear();
    encode_chosen(entry.slot, entry.val, scratch_);
    log_.append(scratch_);
  }
}

void wal_storage::sync() {
  log_.sync();
}

}  // namespace ballot::wal
