#include "runtime/gateway/gateway_metrics.hpp"

#include <capnp/schema.h>

#include "schemas/client.capnp.h"

namespace ballot::gateway {

namespace {

const char* const op_names[] = {
  "put",          "get",      "delete",  "list",       "status",     "openSession",  "keepAlive",
  "closeSession", "acquire",  "release", "checkToken", "lockInfo",   "putEphemeral", "authenticate",
  "authChange",   "authList", "whoAmI",  "snapshot",   "memberList", "memberChange"};

static_assert(sizeof op_names / sizeof op_names[0] ==
                static_cast<std::size_t>(gateway_metrics::op::count_),
              "one name per operation");

}  // namespace

gateway_metrics::gateway_metrics(metrics::registry& reg)
    : connections(
        reg.add_gauge("ballot_client_connections", "Client connections open now.").with()),
      refused_connections(
        reg
          .add_counter("ballot_client_connections_refused_total",
                       "Client connections closed at once: over --max-connections or "
                       "--max-connections-per-address.")
          .with()),
      watchers(reg.add_gauge("ballot_watchers", "Watches open on this node's gateway.").with()),
      keep_alive_commands(
        reg
          .add_counter("ballot_keep_alive_commands_total",
                       "Log commands this gateway proposed to keep sessions alive; each carries "
                       "the keepAlive calls it read together.")
          .with()),
      keep_alive_sessions(reg
                            .add_counter("ballot_keep_alive_sessions_total",
                                         "Session keep-alives carried by those commands.")
                            .with()),
      calls_(reg.add_counter("ballot_client_requests_total",
                             "Client calls answered by this node's gateway, by operation and "
                             "result (ok, or the Error kind of schemas/client.capnp).",
                             {"op", "result"})),
      latency_(reg.add_histogram("ballot_client_request_duration_seconds",
                                 "Time from a client call's arrival to its answer, by operation.",
                                 metrics::latency_buckets(), {"op"})) {
  // Result names come from the schema itself, so a new Error kind is counted
  // under its own name without a list to update here.
  result_names_.push_back("ok");
  auto error = capnp::Schema::from<schemas::client::Error>();
  for (auto field : error.getUnionFields()) {
    if (result_names_.size() >= failed)
      break;
    result_names_.push_back(field.getProto().getName().cStr());
  }
  for (auto& row : counters_)
    for (auto& slot : row)
      slot.store(nullptr, std::memory_order_relaxed);
  for (auto& slot : histograms_)
    slot.store(nullptr, std::memory_order_relaxed);
}

void gateway_metrics::call_done(op o, std::size_t result,
                                std::chrono::steady_clock::duration took) {
  auto i = static_cast<std::size_t>(o);
  if (i >= ops)
    return;
  if (result >= result_names_.size() && result != failed)
    result = failed;
  auto& slot = counters_[i][result];
  auto* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    // First of its kind: the family's lock, once; then the cached pointer.
    c = &calls_.with({op_names[i], result == failed ? "failed" : result_names_[result]});
    slot.store(c, std::memory_order_release);
  }
  c->inc();
  auto& hslot = histograms_[i];
  auto* h = hslot.load(std::memory_order_acquire);
  if (h == nullptr) {
    h = &latency_.with({op_names[i]});
    hslot.store(h, std::memory_order_release);
  }
  h->observe(std::chrono::duration<double>(took).count());
}

}  // namespace ballot::gateway
