#include "actors/paxos/acceptor.hpp"

#include <algorithm>

#include "actors/paxos/split_map.hpp"

namespace ballot::paxos {

acceptor::acceptor(const durable_state& disk)
    : votes_(disk.accepted), compacted_(disk.snap ? disk.snap->last : 0) {
#ifndef BALLOT_MUTANT_FORGET_PROMISE
  promised_ = disk.promised;
#endif
}

void acceptor::raise_promise(const ballot_number& b, ready& out) {
  if (b > promised_) {
    promised_ = b;
    out.promised = b;
  }
}

message acceptor::on_prepare(const prepare& p, ready& out) {
  if (p.ballot < promised_)
    return reject{p.ballot, promised_};
  raise_promise(p.ballot, out);
  promise reply{p.ballot, {}, compacted_};
  for (auto it = votes_.lower_bound(p.first_open); it != votes_.end(); ++it)
    reply.entries.push_back({it->first, it->second.ballot, it->second.val, false});
  return reply;
}

message acceptor::on_accept(const accept& a, ready& out) {
#ifndef BALLOT_MUTANT_ACCEPT_BELOW_PROMISE
  if (a.ballot < promised_)
    return reject{a.ballot, promised_};
#endif
  raise_promise(a.ballot, out);
  auto& vote = votes_[a.slot];
  // A re-sent accept for a vote already on disk needs no second write.
  if (vote.ballot != a.ballot || vote.val != a.val) {
    vote = accepted_value{a.ballot, a.val};
#ifndef BALLOT_MUTANT_VOLATILE_VOTES
    out.accepted.emplace_back(a.slot, vote);
#endif
  }
  return accepted{a.ballot, a.slot};
}

std::map<slot_index, accepted_value> acceptor::compact(slot_index upto) {
  compacted_ = std::max(compacted_, upto);
  return split_through(votes_, upto);
}

const accepted_value* acceptor::vote(slot_index slot) const {
  auto it = votes_.find(slot);
  return it == votes_.end() ? nullptr : &it->second;
}

}  // namespace ballot::paxos
