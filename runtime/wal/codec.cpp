#include "runtime/wal/codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <cstdint>
#include <cstring>

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
                     std::string(reinterpret_cast<const char*>(payload.begin()), payload.size())});
  }
  return val;
}

void finish(capnp::MallocMessageBuilder& msg, std::string& out) {
  string_output stream{out};
  capnp::writeMessage(stream, msg);
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

void encode_promise(const paxos::ballot_number& ballot, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(nullptr)};
  set_ballot(msg.initRoot<schema::Record>().initPromise(), ballot);
  finish(msg, out);
}

void encode_vote(paxos::slot_index slot, const paxos::accepted_value& vote, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(&vote.val)};
  auto rec = msg.initRoot<schema::Record>().initVote();
  rec.setSlot(slot);
  set_ballot(rec.initBallot(), vote.ballot);
  set_value(rec.initValue(), vote.val);
  finish(msg, out);
}

void encode_chosen(paxos::slot_index slot, const paxos::value& val, std::string& out) {
  capnp::MallocMessageBuilder msg{estimate_words(&val)};
  auto rec = msg.initRoot<schema::Record>().initChosen();
  rec.setSlot(slot);
  set_value(rec.initValue(), val);
  finish(msg, out);
}

void encode(const record& rec, std::string& out) {
  struct visitor {
    std::string& out;
    void operator()(const promise_record& r) const { encode_promise(r.ballot, out); }
    void operator()(const vote_record& r) const { encode_vote(r.slot, r.vote, out); }
    void operator()(const chosen_record& r) const { encode_chosen(r.slot, r.val, out); }
  };
  std::visit(visitor{out}, rec);
}

record decode(std::string_view payload) {
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
    // A record reads each of its words once; the bound only stops a crafted
    // message from making the reader loop over shared pointers.
    opts.traversalLimitInWords = n * 4 + 64;
    capnp::FlatArrayMessageReader msg{kj::arrayPtr(words, n), opts};
    if (msg.getEnd() != words + n)
      throw codec_error("payload has bytes after its Cap'n Proto message");
    auto rec = msg.getRoot<schema::Record>();
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
    }
    throw codec_error("unknown record kind " + std::to_string(static_cast<unsigned>(rec.which())));
  } catch (const kj::Exception& e) {
    throw codec_error(std::string{"malformed Cap'n Proto message: "} + e.getDescription().cStr());
  }
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
  };
  std::visit(visitor{state}, rec);
}

}  // namespace ballot::wal
