// The bridge's handle: each call makes a job (bridge_job.hpp) and hands it
// to the bridge's actor (bridge.cpp), alone or, from an outbox, together.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"
#include "caf/send.hpp"

#include "actors/paxos/membership.hpp"
#include "runtime/gateway/bridge.hpp"
#include "runtime/gateway/bridge_job.hpp"

namespace ballot::gateway {

using job = bridge_job;
using clock_type = std::chrono::steady_clock;

namespace {

/// A job due within `timeout` from now. The deadline is set here, not in
/// the actor, so a busy mailbox eats into it.
std::shared_ptr<job> new_job(bool is_write, bridge::reply_handler done,
                             std::chrono::milliseconds timeout) {
  auto j = std::make_shared<job>();
  j->is_write = is_write;
  j->done = std::move(done);
  j->deadline = clock_type::now() + timeout;
  return j;
}

}  // namespace

std::shared_ptr<bridge_job> bridge::write_job(paxos::command cmd, reply_handler& done) const {
  // That client id is the membership's (change_members): a client's request
  // id naming it would otherwise reach the leader as a membership change.
  if (cmd.client == paxos::membership_client) {
    bridge_reply refused;
    refused.st = bridge_reply::status::invalid;
    refused.message = "the request id's client id " + std::to_string(cmd.client) + " is reserved";
    done(std::move(refused));
    return nullptr;
  }
  auto j = new_job(true, std::move(done), request_timeout_);
  j->cmd = std::move(cmd);
  return j;
}

std::shared_ptr<bridge_job> bridge::change_job(std::string payload, reply_handler done) const {
  auto j = new_job(true, std::move(done), request_timeout_);
  // Any seq but 0: the leader's replica takes the change's token instead.
  j->cmd = paxos::command{paxos::membership_client, 1, std::move(payload)};
  return j;
}

std::shared_ptr<bridge_job> bridge::read_job(std::string query, reply_handler done) const {
  auto j = new_job(false, std::move(done), request_timeout_);
  j->query = std::move(query);
  return j;
}

void bridge::write(paxos::command cmd, reply_handler done) const {
  if (auto j = write_job(std::move(cmd), done))
    caf::anon_send(*actor_, std::move(j));
}

void bridge::change_members(std::string payload, reply_handler done) const {
  caf::anon_send(*actor_, change_job(std::move(payload), std::move(done)));
}

void bridge::read(std::string query, reply_handler done) const {
  caf::anon_send(*actor_, read_job(std::move(query), std::move(done)));
}

void bridge::read(std::string query, reply_handler done, std::chrono::milliseconds timeout,
                  bool forward) const {
  auto j = new_job(false, std::move(done), timeout);
  j->local_only = !forward;
  j->query = std::move(query);
  j->hop = timeout;
  caf::anon_send(*actor_, std::move(j));
}

void bridge::status(status_handler done) const {
  auto sj = std::make_shared<bridge_status_job>();
  sj->done = std::move(done);
  caf::anon_send(*actor_, std::move(sj));
}

bridge::outbox::outbox(const bridge& b) : b_(b) {}

// Requests never sent are dropped with their callbacks, as the actor's
// are when it stops.
bridge::outbox::~outbox() = default;

void bridge::outbox::write(paxos::command cmd, reply_handler done) {
  if (auto j = b_.write_job(std::move(cmd), done))
    jobs_.push_back(std::move(j));
}

void bridge::outbox::read(std::string query, reply_handler done) {
  jobs_.push_back(b_.read_job(std::move(query), std::move(done)));
}

void bridge::outbox::change_members(std::string payload, reply_handler done) {
  jobs_.push_back(b_.change_job(std::move(payload), std::move(done)));
}

void bridge::outbox::send() {
  if (jobs_.empty())
    return;
  if (jobs_.size() == 1)
    caf::anon_send(*b_.actor_, std::move(jobs_.front()));
  else
    caf::anon_send(*b_.actor_, std::move(jobs_));
  jobs_.clear();
}

}  // namespace ballot::gateway
