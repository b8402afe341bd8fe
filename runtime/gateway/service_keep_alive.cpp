// Coalesced keep-alives: the keepAlive calls a gateway reads while its
// keep-alive commands are out go to the log as one lock::keep_alive_many,
// not one command each. A session's keep-alive is the same rule either way
// (lock_service runs the single one per session); what is saved is a log
// command, a dedup record, a result and an answer per session: a hundred
// thousand sessions kept alive every ten seconds are ten thousand commands a
// second otherwise.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/lock/lock_codec.hpp"
#include "actors/replica/random_id.hpp"
#include "runtime/gateway/call_util.hpp"
#include "runtime/gateway/gateway_metrics.hpp"
#include "runtime/gateway/service.hpp"

namespace ballot::gateway {

namespace {

/// Every session's answer of one batch, in the batch's order.
using batch_answers = std::shared_ptr<const std::vector<bridge_reply>>;

}  // namespace

/// One keep_alive_many: filled by the calls that join it, then asked; its
/// answers, split once, are forked to every call in it.
struct service::keep_alive_batch {
  lock::keep_alive_many cmd;
  std::size_t bytes = 0;
  kj::Own<kj::PromiseFulfiller<batch_answers>> done;
  kj::ForkedPromise<batch_answers> answer;

  explicit keep_alive_batch(kj::PromiseFulfillerPair<batch_answers> paf)
      : done(kj::mv(paf.fulfiller)), answer(paf.promise.fork()) {}
};

namespace {

/// What the batch's answer says of each of its sessions, as the bridge would
/// have answered that session's own keep_alive.
std::vector<bridge_reply> split(const bridge_reply& batch, const lock::keep_alive_many& cmd) {
  auto n = cmd.sessions.size();
  if (batch.st != bridge_reply::status::ok) {
    if (batch.st != bridge_reply::status::expired)
      return std::vector<bridge_reply>(n, batch);
    // The gateway's own request id, not the callers', fell out of the
    // dedup window: a keep-alive may apply twice, so a retry is harmless.
    return std::vector<bridge_reply>(
      n, unavailable("the node's keep-alive batch expired in the log; retry"));
  }
  lock::result all;
  std::string error;
  if (!lock::decode(batch.result, all, error) || all.code != lock::result_code::ok ||
      all.kept.size() != n)
    return std::vector<bridge_reply>(
      n, unavailable("the node could not read its keep-alive batch's answer: " +
                     (error.empty() ? std::string(lock::to_string(all.code)) : error)));
  std::vector<bridge_reply> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& k = all.kept[i];
    if (k.session != cmd.sessions[i].session) {
      out[i] = unavailable("the node's keep-alive batch answered another session");
      continue;
    }
    lock::result one;
    one.code = k.code;
    one.session = k.session;
    one.deadline = k.deadline;
    one.message = std::move(k.message);
    out[i].result = lock::encode(one);
  }
  return out;
}

}  // namespace

paxos::command service::own_command(const lock::command& cmd) {
  return {own_client_, ++own_seq_, lock::encode(cmd)};
}

void service::own_answered(const bridge_reply& r) {
  // Idle past the log's dedup TTL, the gateway's id is forgotten and its
  // next write (past the first window) refused `expired` for good: a new
  // id starts a new window, as a client library does.
  if (r.st == bridge_reply::status::expired) {
    own_client_ = actors::random_client_id();
    own_seq_ = 0;
  }
}

kj::Promise<bridge_reply> service::coalesced_keep_alive(lock::keep_alive k) {
  if (!opts_.coalesce_keep_alives) {
    count_keep_alive_command(1);
    return ask(true, own_command(k), {}).then([this](bridge_reply r) {
      own_answered(r);
      return r;
    });
  }
  // Each waiting keep-alive counts as a call: the budget of calls in flight
  // holds whether they travel alone or together.
  if (asked_calls_ + keep_alives_waiting_ >= opts_.max_in_flight_calls) {
    bridge_reply r;
    r.st = bridge_reply::status::overloaded;
    r.message = "the node has " + std::to_string(asked_calls_ + keep_alives_waiting_) +
                " calls in flight; its limit is " + std::to_string(opts_.max_in_flight_calls);
    return r;
  }
  auto bytes = lock::keep_alive_many_entry_bytes(k);
  // A follower forwards a command only up to max_forward_bytes (a larger
  // one is redirected: every keep-alive in it would hear notLeader).
  auto limit = std::min(max_keep_alive_batch_bytes, opts_.max_forward_bytes);
  if (open_batch_ && (open_batch_->cmd.sessions.size() >= lock::max_keep_alive_batch ||
                      lock::keep_alive_many_head_bytes + open_batch_->bytes + bytes > limit))
    full_batches_.push_back(std::move(open_batch_));
  if (!open_batch_)
    open_batch_ = std::make_shared<keep_alive_batch>(kj::newPromiseAndFulfiller<batch_answers>());
  auto& b = *open_batch_;
  auto i = b.cmd.sessions.size();
  b.cmd.sessions.push_back(std::move(k));
  b.bytes += bytes;
  ++keep_alives_waiting_;
  // At the turn's end, after the turn's other calls have joined.
  batch_flush_.schedule([this] { send_keep_alive_batches(); });
  return b.answer.addBranch()
    .then([i](const batch_answers& all) { return (*all)[i]; })
    .attach(kj::defer([this] { --keep_alives_waiting_; }));
}

void service::count_keep_alive_command(std::size_t sessions) {
  if (auto* m = metrics()) {
    m->keep_alive_commands.inc();
    m->keep_alive_sessions.inc(sessions);
  }
}

void service::send_keep_alive_batches() {
  while (batches_asked_ < max_keep_alive_batches && (!full_batches_.empty() || open_batch_)) {
    std::shared_ptr<keep_alive_batch> b;
    if (!full_batches_.empty()) {
      b = std::move(full_batches_.front());
      full_batches_.erase(full_batches_.begin());
    } else {
      b = std::move(open_batch_);
    }
    count_keep_alive_command(b->cmd.sessions.size());
    ++batches_asked_;
    // Into the variant to encode, and back for splitting the answer: no copy.
    lock::command whole{std::move(b->cmd)};
    auto cmd = own_command(whole);
    b->cmd = std::get<lock::keep_alive_many>(std::move(whole));
    batch_sends_.add(ask(true, std::move(cmd), {}).then([this, b](const bridge_reply& r) {
      own_answered(r);
      --batches_asked_;
      b->done->fulfill(std::make_shared<const std::vector<bridge_reply>>(split(r, b->cmd)));
      // The keep-alives that came while this one was out go now.
      send_keep_alive_batches();
    }));
  }
}

}  // namespace ballot::gateway
