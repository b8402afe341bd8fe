#include "runtime/wal/wal_storage.hpp"

#include <memory>
#include <stdexcept>
#include <string>
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
  // Each handler throws codec_error for a payload that does not decode; the
  // log turns it into a storage_error naming the file and offset (or, for a
  // snapshot file it can do without, starts from an older checkpoint).
  report_ = log_.replay(
    [&](snapshot_reader& snapshot, const std::string&) {
      auto cp = decode_checkpoint(snapshot.header());
      if (snapshot.chunked()) {
        if (!cp.state.snap->machine.bytes().empty())
          throw codec_error("the header of a chunked snapshot holds machine bytes too");
        // Read straight into the one string the machine is restored from.
        std::string machine(static_cast<std::size_t>(snapshot.body_size()), '\0');
        snapshot.read_body(machine.data());
        cp.state.snap->machine = paxos::machine_image(std::move(machine));
      }
      state = std::move(cp.state);
      // A vote or chosen value the snapshot already covers would only break
      // the invariant that `accepted` and `chosen` hold the slots after it.
      auto last = state.snap->last;
      state.accepted.erase(state.accepted.begin(), state.accepted.upper_bound(last));
      state.chosen.erase(state.chosen.begin(), state.chosen.upper_bound(last));
      return cp.next_record;
    },
    [&](std::string_view payload, const record_position&) {
      auto rec = decode(payload);
      if (auto slot = slot_of(rec); slot && state.snap && *slot <= state.snap->last)
        return;
      apply_record(rec, state);
    });
  state.damaged = report_.repair_pending;
  return state;
}

void wal_storage::append(const paxos::ready& rd) {
  // A repair that begins is durable before anything it leads to.
  if (rd.damaged && *rd.damaged)
    log_.set_repair_pending(true);
  std::optional<paxos::slot_index> covered;
  if (rd.compacted) {
    auto& state = *rd.compacted;
    if (!state.snap)
      throw std::invalid_argument("ballot::wal::wal_storage: a compacted state without a snapshot");
    // Checkpoints commit in order: one in the background finishes first.
    finish_checkpoint(true);
    // The machine's bytes go to the file's body as they are; the header is
    // the rest, in its own buffer (`scratch_` lives on).
    std::string header;
    try {
      encode_checkpoint(state, log_.next_index(), header, false);
    } catch (const codec_error& e) {
      throw actors::storage_error("wal: " + log_.dir() + ": " + e.what());
    }
    try {
      log_.checkpoint(state.snap->last, header, state.snap->machine.bytes());
      covered = state.snap->last;
    } catch (const actors::storage_full&) {
      // A full disk postpones the compaction: the log still holds everything
      // the snapshot would have replaced, and the next one covers it.
    }
  }
  append_records(rd, covered);
}

void wal_storage::append_owned(paxos::ready& rd) {
  if (!rd.compacted || !rd.compacted_locally) {
    append(rd);
    return;
  }
  if (!rd.compacted->snap)
    throw std::invalid_argument("ballot::wal::wal_storage: a compacted state without a snapshot");
  if (rd.damaged && *rd.damaged)
    log_.set_repair_pending(true);
  finish_checkpoint(false);
  if (log_.checkpoint_in_flight()) {
    // The log keeps covering it; the next snapshot replaces both.
    ++skipped_;
  } else {
    try {
      start_background_checkpoint(std::move(*rd.compacted));
    } catch (const actors::storage_full&) {
      // No room for its new segment: postponed like a checkpoint written at
      // once, and the log still holds everything.
    }
  }
  rd.compacted.reset();
  // Every record, those the snapshot covers too: until its file is durable,
  // the log is what holds them.
  append_records(rd, std::nullopt);
}

void wal_storage::start_background_checkpoint(paxos::durable_state state) {
  auto key = state.snap->last;
  auto next = log_.next_index();
  // Shared, as std::function wants a copyable closure; never copied.
  auto owned = std::make_shared<paxos::durable_state>(std::move(state));
  log_.start_checkpoint(key, [owned, next, dir = log_.dir()]() mutable {
    snapshot_payload payload;
    try {
      encode_checkpoint(*owned, next, payload.header, false);
    } catch (const codec_error& e) {
      throw actors::storage_error("wal: " + dir + ": " + e.what());
    }
    // The machine's bytes are made as the file's chunks are written
    // (machine_image::write_to) and kept nowhere: a checkpoint holds a
    // chunk of the encoding, not a copy of the state (issue 9). The rest of
    // the state is in the header now: free it before the write.
    auto machine = std::make_shared<const paxos::machine_image>(owned->snap->machine);
    owned.reset();
    payload.body_size_hint = machine->size_hint();
    payload.write_body = [machine](const std::function<void(std::string_view)>& sink) {
      machine->write_to(sink);
    };
    return payload;
  });
}

checkpoint_result wal_storage::finish_checkpoint(bool wait) {
  auto res = log_.finish_checkpoint(wait);
  if (on_finished_ && (res.what == checkpoint_result::outcome::committed ||
                       res.what == checkpoint_result::outcome::postponed))
    on_finished_(res);
  return res;
}

void wal_storage::append_records(const paxos::ready& rd, std::optional<paxos::slot_index> covered) {
  auto skip = [&](paxos::slot_index slot) { return covered && slot <= *covered; };
  // Same order as ready::persist_to. Each record is framed on its own, so a
  // torn write loses whole records only; replaying any prefix of a ready is
  // safe because none of it was acknowledged before the sync.
  if (rd.promised) {
    scratch_.clear();
    encode_promise(*rd.promised, scratch_);
    log_.append(scratch_);
  }
  for (auto& [slot, vote] : rd.accepted) {
    if (skip(slot))
      continue;
    scratch_.clear();
    encode_vote(slot, vote, scratch_);
    log_.append(scratch_);
  }
  for (auto& entry : rd.chosen) {
    if (skip(entry.slot))
      continue;
    scratch_.clear();
    if (auto it = rd.chosen_votes.find(entry.slot); it != rd.chosen_votes.end())
      encode_chosen_vote(entry.slot, it->second, scratch_);
    else
      encode_chosen(entry.slot, entry.val, scratch_);
    log_.append(scratch_);
  }
  // A repair that finished: what it learned is synced before the mark goes.
  if (rd.damaged && !*rd.damaged)
    log_.set_repair_pending(false);
}

void wal_storage::sync() {
  log_.sync();
  finish_checkpoint(false);
}

}  // namespace ballot::wal
