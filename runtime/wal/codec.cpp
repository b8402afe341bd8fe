#include "runtime/wal/codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "schemas/wal.capnp.h"

namespace ballot::wal {

namespace schema = ballot::schemas::wal;

namespace {

/// Lets capnp::writeMessage append straight to a std::string (no flat-array
/// copy in between).
class string_output final : public kj::OutputStream {
 public:
  explicit string_output(std::string& out) : out_(out) {}

  void write(const void* buffer, size_t size) override {
    out_.append(static_cast<const char*>(buffer), size);
  }

 private:
  std::string& out_;
};

constexpr std::size_t word_size = sizeof(capnp::word);

std::size_t words_for_bytes(std::size_t n) {
  return (n + word_size - 1) / word_size;
}

/// Words a record with this value needs, so the first segment holds the whole
/// message: one allocation per record, and a one-segment message whose size
/// its 8-byte header states (see `encoded_size`). An underestimate only
/// costs a second segment.
unsigned estimate_words(const paxos::value* val) {
  std::size_t words = 16;  // root struct, ballot, value struct, list tag, slack
  if (val != nullptr)
    for (auto& cmd : val->commands)
      words += 3 + words_for_bytes(cmd.payload.size());  // 2 data words + 1 pointer
  return static_cast<unsigned>(words);
}

void set_ballot(schema::Ballot::Builder b, const paxos::ballot_number& ballot) {
  b.setRound(ballot.round);
  b.setNode(ballot.node);
}

void set_value(schema::Value::Builder b, const paxos::value& val) {
  auto cmds = b.initCommands(static_cast<unsigned>(val.commands.size()));
  for (unsigned i = 0; i < cmds.size(); ++i) {
    auto& cmd = val.commands[i];
    auto out = cmds[i];
    out.setClient(cmd.client);
    out.setSeq(cmd.seq);
    out.setFingerprint(cmd.fingerprint);
    out.setPayload(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(cmd.payload.data()),
                                       cmd.payload.size()));
  }
}

paxos::ballot_number get_ballot(schema::Ballot::Reader b) {
  return paxos::ballot_number{b.getRound(), b.getNode()};
}

paxos::value get_value(schema::Value::Reader b) {
  paxos::value val;
  auto cmds = b.getCommands();
  val.commands.reserve(cmds.size());
  for (auto cmd : cmds) {
    auto payload = cmd.getPayload();
    val.commands.push_back(
      paxos::command{cmd.getClient(), cmd.getSeq(),
                     std::string(reinterpret_cast<const char*>(payload.begin()), payload.size()),
                     cmd.getFingerprint()});
  }
  return val;
}

void finish(capnp::MallocMessageBuilder& msg, std::string& out) {
  string_output stream{out};
  capnp::writeMessage(stream, msg);
}

capnp::Data::Reader data_of(const std::string& bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

std::string string_of(capnp::Data::Reader data) {
  return {reinterpret_cast<const char*>(data.begin()), data.size()};
}

void set_vote(schema::Record::Vote::Builder rec, paxos::slot_index slot,
              const paxos::accepted_value& vote) {
  rec.setSlot(slot);
  set_ballot(rec.initBallot(), vote.ballot);
  set_value(rec.initValue(), vote.val);
}

void set_chosen(schema::Record::Chosen::Builder rec, paxos::slot_index slot,
                const paxos::value& val) {
  rec.setSlot(slot);
  set_value(rec.initValue(), val);
}

record get_record(schema::Record::Reader rec) {
  switch (rec.which()) {
    case schema::Record::PROMISE:
      return promise_record{get_ballot(rec.getPromise())};
    case schema::Record::VOTE: {
      auto v = rec.getVote();
      return vote_record{v.getSlot(), {get_ballot(v.getBallot()), get_value(v.getValue())}};
    }
    case schema::Record::CHOSEN: {
      auto c = rec.getChosen();
      return chosen_record{c.getSlot(), get_value(c.getValue())};
    }
    case schema::Record::CHOSEN_VOTE: {
      auto c = rec.getChosenVote();
      return chosen_vote_record{c.getSlot(), get_ballot(c.getBallot())};
    }
  }
  throw codec_error("unknown record kind " + std::to_string(static_cast<unsigned>(rec.which())));
}

/// Reads `payload` as exactly one Cap'n Proto message and hands its reader to
/// `fn`; every malformation becomes a codec_error.
template <class F>
auto with_message(std::string_view payload, F&& fn) {
  if (payload.empty() || payload.size() % word_size != 0)
    throw codec_error("payload of " + std::to_string(payload.size()) +
                      " bytes is not a whole number of Cap'n Proto words");
  auto n = payload.size() / word_size;
  // FlatArrayMessageReader needs word-aligned input; payloads read from a
  // segment are, but a caller's buffer need not be.
  auto words = reinterpret_cast<const capnp::word*>(payload.data());
  kj::Array<capnp::word> aligned;
  if (reinterpret_cast<std::uintptr_t>(payload.data()) % alignof(capnp::word) != 0) {
    aligned = kj::heapArray<capnp::word>(n);
    std::memcpy(aligned.begin(), payload.data(), payload.size());
    words = aligned.begin();
  }
  try {
    capnp::ReaderOptions opts;
    // A message reads each of its words once; the bound only stops a crafted
    // message from making the reader loop over shared pointers.
    opts.traversalLimitInWords = n * 4 + 64;
    capnp::FlatArrayMessageReader msg{kj::arrayPtr(words, n), opts};
    if (msg.getEnd() != words + n)
      throw codec_error("payload has bytes after its Cap'n Proto message");
    return fn(msg);
  } catch (const kj::Exception& e) {
    throw codec_error(std::string{"malformed Cap'n Proto message: "} + e.getDescription().cStr());
  }
}

}  // namespace

bool operator==(const promise_record& a, const promise_record& b) {
  return a.ballot == b.ballot;
}

bool operator==(const vote_record& a, const vote_record& b) {
  return a.slot == b.slot && a.vote.ballot == b.vote.ballot && a.vote.val == b.vote.val;
}

bool operator==(const chosen_record& a, const chosen_record& b) {
  return a.slot == b.slot && a.val == b.val;
}

bool operator==(const chosen_vote_record& a, const chosen_vote_record& b) {
  return a.slot == b.slot && a.ballot == b.ballot;
}

void encode_promise(const paxos::ballot_number& ballot, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(nullptr)};
  set_ballot(msg.initRoot<schema::Record>().initPromise(), ballot);
  finish(msg, out);
}

void encode_vote(paxos::slot_index slot, const paxos::accepted_value& vote, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(&vote.val)};
  set_vote(msg.initRoot<schema::Record>().initVote(), slot, vote);
  finish(msg, out);
}

void encode_chosen(paxos::slot_index slot, const paxos::value& val, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(&val)};
  set_chosen(msg.initRoot<schema::Record>().initChosen(), slot, val);
  finish(msg, out);
}

void encode_chosen_vote(paxos::slot_index slot, const paxos::ballot_number& ballot,
                        std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(nullptr)};
  auto c = msg.initRoot<schema::Record>().initChosenVote();
  c.setSlot(slot);
  set_ballot(c.initBallot(), ballot);
  finish(msg, out);
}

void encode(const record& rec, std::string& out) {
  struct visitor {
    std::string& out;
    void operator()(const promise_record& r) const { encode_promise(r.ballot, out); }
    void operator()(const vote_record& r) const { encode_vote(r.slot, r.vote, out); }
    void operator()(const chosen_record& r) const { encode_chosen(r.slot, r.val, out); }
    void operator()(const chosen_vote_record& r) const {
      encode_chosen_vote(r.slot, r.ballot, out);
    }
  };
  std::visit(visitor{out}, rec);
}

record decode(std::string_view payload) {
  return with_message(
    payload, [](capnp::MessageReader& msg) { return get_record(msg.getRoot<schema::Record>()); });
}

void encode_checkpoint(const paxos::durable_state& state, std::uint64_t next_record,
                       std::string& out, bool with_machine) {
  if (!state.snap)
    throw std::invalid_argument("ballot::wal::encode_checkpoint: the state has no snapshot");
  auto& snap = *state.snap;
  // One first segment for the whole message, as for records. The machine's
  // bytes are made here if it was frozen (a local checkpoint: on the
  // storage's background thread, see wal_storage::start_background_checkpoint).
  std::size_t words = 64 + words_for_bytes(with_machine ? snap.machine.size() : 0) +
                      words_for_bytes(snap.members.size());
  for (auto& c : snap.clients) {
    words += 5;
    for (auto& [seq, result] : c.results)
      words += 4 + words_for_bytes(result.size());
  }
  for (auto& [slot, vote] : state.accepted)
    words += estimate_words(&vote.val);
  for (auto& [slot, val] : state.chosen)
    words += estimate_words(&val);
  try {
    capnp::MallocMessageBuilder msg{static_cast<unsigned>(std::min<std::size_t>(words, 1u << 30))};
    auto root = msg.initRoot<schema::Checkpoint>();
    root.setNextRecord(next_record);
    auto s = root.initSnapshot();
    s.setLast(snap.last);
    if (with_machine)
      s.setMachine(data_of(snap.machine.bytes()));
    s.setMembers(snap.members);
    auto clients = s.initClients(static_cast<unsigned>(snap.clients.size()));
    for (unsigned i = 0; i < clients.size(); ++i) {
      auto& c = snap.clients[i];
      clients[i].setClient(c.client);
      clients[i].setForgotten(c.forgotten);
      clients[i].setLastActiveMs(c.last_active_ms);
      auto results = clients[i].initResults(static_cast<unsigned>(c.results.size()));
      for (unsigned j = 0; j < results.size(); ++j) {
        results[j].setSeq(c.results[j].first);
        results[j].setResult(data_of(c.results[j].second));
        if (j < c.fingerprints.size())
          results[j].setFingerprint(c.fingerprints[j]);
      }
    }
    // In the order a replay applies records: the promise, then votes, then chosen.
    auto recs =
      root.initRecords(static_cast<unsigned>(1 + state.accepted.size() + state.chosen.size()));
    unsigned i = 0;
    set_ballot(recs[i++].initPromise(), state.promised);
    for (auto& [slot, vote] : state.accepted)
      set_vote(recs[i++].initVote(), slot, vote);
    for (auto& [slot, val] : state.chosen)
      set_chosen(recs[i++].initChosen(), slot, val);
    finish(msg, out);
  } catch (const kj::Exception& e) {
    // Cap'n Proto's limits, e.g. a Data blob of 512 MiB or more.
    throw codec_error(std::string{"cannot encode the checkpoint: "} + e.getDescription().cStr());
  }
}

checkpoint_record decode_checkpoint(std::string_view payload) {
  return with_message(payload, [](capnp::MessageReader& msg) {
    auto root = msg.getRoot<schema::Checkpoint>();
    if (!root.hasSnapshot())
      throw codec_error("checkpoint without a snapshot");
    checkpoint_record out;
    out.next_record = root.getNextRecord();
    auto s = root.getSnapshot();
    auto& snap = out.state.snap.emplace();
    snap.last = s.getLast();
    snap.machine = string_of(s.getMachine());
    auto members = s.getMembers();
    snap.members.assign(members.cStr(), members.size());
    std::vector<paxos::client_record> clients;
    clients.reserve(s.getClients().size());
    for (auto c : s.getClients()) {
      paxos::client_record rec;
      rec.client = c.getClient();
      rec.forgotten = c.getForgotten();
      rec.last_active_ms = c.getLastActiveMs();
      rec.results.reserve(c.getResults().size());
      bool any_fingerprint = false;
      for (auto r : c.getResults()) {
        rec.results.emplace_back(r.getSeq(), string_of(r.getResult()));
        rec.fingerprints.push_back(r.getFingerprint());
        any_fingerprint = any_fingerprint || r.getFingerprint() != 0;
      }
      // None known (a table from before fingerprints): as the writer had it.
      if (!any_fingerprint)
        rec.fingerprints.clear();
      clients.push_back(std::move(rec));
    }
    snap.clients = std::move(clients);
    for (auto r : root.getRecords())
      apply_record(get_record(r), out.state);
    return out;
  });
}

std::optional<paxos::slot_index> slot_of(const record& rec) {
  if (auto* v = std::get_if<vote_record>(&rec))
    return v->slot;
  if (auto* c = std::get_if<chosen_record>(&rec))
    return c->slot;
  if (auto* c = std::get_if<chosen_vote_record>(&rec))
    return c->slot;
  return std::nullopt;
}

std::optional<std::size_t> encoded_size(std::string_view prefix) {
  // The flat-array header: u32 (segment count - 1), then one u32 size in
  // words per segment, padded to a whole word; then the segments.
  auto u32_at = [&](std::size_t i) {
    auto p = reinterpret_cast<const unsigned char*>(prefix.data()) + i * 4;
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
  };
  if (prefix.size() < word_size)
    return std::nullopt;
  // A real header's first word is never zero (the root segment has at least
  // one word). Zeros are a block that never reached the disk: no evidence.
  if (u32_at(0) == 0 && u32_at(1) == 0)
    return std::nullopt;
  std::size_t segments = std::size_t{u32_at(0)} + 1;
  if (segments > 512)  // Cap'n Proto's own limit: this is no header
    return 0;          // (and no payload is 0 bytes, so 0 never matches)
  std::size_t table_bytes = (4 * (segments + 1) + word_size - 1) / word_size * word_size;
  if (prefix.size() < table_bytes)
    return std::nullopt;
  std::size_t total = table_bytes;
  for (std::size_t i = 0; i < segments; ++i)
    total += std::size_t{u32_at(i + 1)} * word_size;
  return total;
}

void apply_record(const record& rec, paxos::durable_state& state) {
  struct visitor {
    paxos::durable_state& st;
    void operator()(const promise_record& r) const { st.promised = r.ballot; }
    void operator()(const vote_record& r) const { st.accepted[r.slot] = r.vote; }
    void operator()(const chosen_record& r) const { st.chosen[r.slot] = r.val; }
    void operator()(const chosen_vote_record& r) const {
      // Its vote came first in the log. A later vote in the same slot can
      // only be for the same value (the slot is chosen), so any vote will do.
      auto it = st.accepted.find(r.slot);
      if (it == st.accepted.end())
        throw codec_error("slot " + std::to_string(r.slot) +
                          " is recorded chosen as this acceptor's vote, but no vote precedes it");
      st.chosen[r.slot] = it->second.val;
    }
  };
  std::visit(visitor{state}, rec);
}

}  // namespace ballot::wal
