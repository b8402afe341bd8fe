// The lock workload's state machine inside its envelope (see lock_machine in
// lock_workload.hpp), and how the workload shows a command in traces.
#include <type_traits>
#include <variant>

#include "actors/lock/lock_codec.hpp"
#include "tests/sim/lock_workload.hpp"

namespace ballot::sim {

std::string lock_payload(const std::string& payload) {
  auto bar = payload.find('|');
  return bar == std::string::npos ? payload : payload.substr(bar + 1);
}

namespace {

std::string show_command(const lock::command& cmd) {
  using std::to_string;
  return std::visit(
    [](const auto& c) -> std::string {
      using t = std::decay_t<decltype(c)>;
      std::string at = " now=" + to_string(c.now);
      if constexpr (std::is_same_v<t, lock::open_session>)
        return "open ttl=" + to_string(c.ttl_ms) + at;
      else if constexpr (std::is_same_v<t, lock::keep_alive>)
        return "keep_alive s" + to_string(c.session) + at;
      else if constexpr (std::is_same_v<t, lock::close_session>)
        return "close s" + to_string(c.session) + at;
      else if constexpr (std::is_same_v<t, lock::tick>)
        return "tick" + at;
      else if constexpr (std::is_same_v<t, lock::leader_change>)
        return "leader_change grace=" + to_string(c.grace_ms) + at;
      else if constexpr (std::is_same_v<t, lock::acquire>)
        return "acquire s" + to_string(c.session) + " " + c.name +
               (c.mode == lock::lock_mode::exclusive ? " excl" : " shared") +
               (c.wait ? " wait" : " try") + " delay=" + to_string(c.delay_ms) + at;
      else if constexpr (std::is_same_v<t, lock::release>)
        return "release s" + to_string(c.session) + " " + c.name + at;
      else if constexpr (std::is_same_v<t, lock::cancel_wait>)
        return "cancel_wait s" + to_string(c.session) + " " + c.name + at;
      else if constexpr (std::is_same_v<t, lock::put_key>)
        return "put " + c.key + " s" + to_string(c.session) + at;
      else if constexpr (std::is_same_v<t, lock::keep_alive_many>) {
        std::string s = "keep_alive_many";
        for (auto& k : c.sessions)
          s += " s" + to_string(k.session);
        return s + at;
      } else
        return "delete " + c.key + at;
    },
    cmd);
}

}  // namespace

// --- the state machine inside its envelope -----------------------------------

lock_machine::lock_machine(lock_workload& wl, oracle& o, node_id node, lock::time_ms grace_ms)
    : wl_(wl), oracle_(o), node_(node), svc_(grace_ms) {
  svc_.set_observer([this](const service::change& ch) { change_ = ch; });
}

std::string lock_machine::apply(const std::string& payload) {
  change_.reset();
  auto result = svc_.apply(lock_payload(payload));
  ++applied_;
  oracle_.on_applied(node_, applied_, payload, result);
  wl_.on_applied(node_, applied_, payload, result, change_ ? &*change_ : nullptr, svc_);
  return result;
}

std::string lock_machine::query(const std::string& request) const {
  return svc_.query(request);
}

std::optional<std::string> lock_machine::snapshot() const {
  auto snap = svc_.snapshot();
  if (!snap)
    return std::nullopt;
  wl_.on_snapshot(applied_, *snap);
  return std::to_string(applied_) + "\n" + *snap;
}

void lock_machine::restore(const std::string& snapshot) {
  auto nl = snapshot.find('\n');
  auto rest = snapshot.substr(nl + 1);
  svc_.restore(rest);
  applied_ = std::stoull(snapshot.substr(0, nl));
  wl_.on_restored(node_, applied_, rest, svc_);
}

void lock_machine::stamp(paxos::shared_payload& payload, std::uint64_t now_ms) const {
  auto& bytes = payload.edit();
  auto bar = bytes.find('|');
  paxos::shared_payload cmd{lock_payload(bytes)};
  svc_.stamp(cmd, now_ms);
  bytes = (bar == std::string::npos ? std::string{} : bytes.substr(0, bar + 1)) + cmd.str();
}

std::uint64_t lock_machine::fingerprint(const std::string& payload) const {
  auto bar = payload.find('|');
  auto envelope = bar == std::string::npos ? std::string{} : payload.substr(0, bar + 1);
  envelope += std::to_string(svc_.fingerprint(lock_payload(payload)));
  return fingerprint_bytes(envelope.data(), envelope.size());
}

std::vector<std::string> lock_machine::leader_commands(std::uint64_t now_ms, bool elected) const {
  return svc_.leader_commands(now_ms, elected);
}

std::string lock_workload::show(const std::string& payload) {
  auto bar = payload.find('|');
  std::string id = bar == std::string::npos ? std::string{} : payload.substr(0, bar) + " ";
  lock::command cmd;
  std::string error;
  if (!lock::decode(lock_payload(payload), cmd, error))
    return id + "(undecodable: " + error + ")";
  return id + show_command(cmd);
}

}  // namespace ballot::sim
