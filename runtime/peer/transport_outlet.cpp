#include "runtime/peer/transport_outlet.hpp"

#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/peer/payload_codec.hpp"
#include "runtime/peer/transport.hpp"

namespace ballot::peer {

void transport_outlet::attach(std::shared_ptr<transport> net) {
  net_ = std::move(net);
  attached_.store(true, std::memory_order_release);  // net_ is visible to whoever sees this
}

bool transport_outlet::send(paxos::node_id to, paxos::node_id from, const paxos::message& msg) {
  if (!attached_.load(std::memory_order_acquire))
    return false;
  return std::visit(
    [&](const auto& m) {
      using message_type = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<message_type, paxos::install_snapshot>) {
        return false;
      } else {
        // Not connected or over its budget: dropped and counted by the
        // transport, as the link actor's send was; consensus re-sends.
        net_->send(to, make_core_frame(sys_, from, m));
        return true;
      }
    },
    msg);
}

}  // namespace ballot::peer
