#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/paxos/frozen_state.hpp"
#include "actors/paxos/shared_payload.hpp"

/// The interface a replicated service implements to run over the Paxos log.
namespace ballot::paxos {

/// A deterministic state machine. Every replica applies the same commands in
/// the same order, so `apply` must depend only on the state and the command:
/// no clocks, no randomness, no I/O whose result can differ between replicas.
class state_machine {
 public:
  virtual ~state_machine() = default;

  /// Applies one command's payload and returns the result sent to the client.
  virtual std::string apply(const std::string& payload) = 0;

  /// Answers a read-only query against the current state. The replica calls
  /// it only when a linearizable read may be served (see replica::read).
  virtual std::string query(const std::string& /*request*/) const { return {}; }

  /// The whole state as bytes, so the log before it can be dropped and a
  /// replica that fell behind can be sent it; nullopt if this machine does
  /// not support snapshots (then the log is never compacted).
  virtual std::optional<std::string> snapshot() const { return std::nullopt; }

  /// The state as of now, cheap to take, whose bytes (`frozen_state::encode`,
  /// exactly what `snapshot` returns now) are produced later on another
  /// thread; nullptr when this machine cannot (then `snapshot` is taken at
  /// once, on the caller's thread). A machine whose state is large should:
  /// the replica takes its checkpoints with it (issue 9).
  virtual std::shared_ptr<const frozen_state> freeze() const { return nullptr; }

  /// Replaces the whole state with one `snapshot` returned.
  virtual void restore(const std::string& /*snapshot*/) {}

  /// What a backup's header says of the state: counts an operator can check
  /// against what was written (README "Backup and restore"); zeros when a
  /// machine keeps none.
  struct counts {
    std::uint64_t revision = 0;
    std::uint64_t keys = 0;
    std::uint64_t sessions = 0;
  };
  virtual counts describe() const { return {}; }

  /// Identifies a command's content for the dedup table, which refuses a
  /// (client, seq) reused for another command. It must ignore what `stamp`
  /// rewrites (a retry may be stamped by another leader) and never be 0.
  /// The default hashes the whole payload.
  virtual std::uint64_t fingerprint(const std::string& payload) const {
    return fingerprint_bytes(payload.data(), payload.size());
  }

  /// The log's time (ms) after the commands applied so far, if this machine
  /// keeps one (from the leader's stamps); 0 if not. Deterministic like
  /// `apply`: the dedup table expires idle clients by it.
  virtual std::uint64_t log_time_ms() const { return 0; }

  /// The leader's check of a client command before it proposes it: an
  /// encoded result refusing it (answered at once, nothing proposed), or
  /// nullopt to go on. For caps that protect the state, not for rules: like
  /// `stamp`, it reads the leader's possibly lagging state, so a cap it
  /// enforces is soft by what is in flight. The default admits everything.
  virtual std::optional<std::string> admit(const std::string& /*payload*/) const {
    return std::nullopt;
  }

  /// Bytes of state, as a quota counts them (0 if not counted). Read by the
  /// leader's driver only, never by `apply`.
  virtual std::uint64_t state_bytes() const { return 0; }

  /// Whether a command would grow the state (a put): over a quota, the
  /// leader refuses those and lets every other command through.
  virtual bool grows(const std::string& /*payload*/) const { return false; }

  /// A 64-bit hash, never 0, the same on every machine (little-endian words
  /// by definition), which a replicated table needs (std::hash promises
  /// neither). Payloads of a megabyte are common and the leader hashes each
  /// twice, so four independent lanes take 32 bytes a step: one lane's chain
  /// of multiplies ran at about 1.3 GB/s and was 11% of a node's CPU under
  /// 1 MB puts. Not a defence against a client that crafts collisions: it
  /// only compares a client's own retries with each other.
  static std::uint64_t fingerprint_bytes(const char* data, std::size_t size) {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ULL;
    auto mix = [](std::uint64_t h, std::uint64_t w) {
      h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
      return h ^ (h >> 29);
    };
    auto word = [](const unsigned char* p) {
      std::uint64_t w = 0;
      for (int i = 7; i >= 0; --i)
        w = (w << 8) | p[i];
      return w;
    };
    auto p = reinterpret_cast<const unsigned char*>(data);
    std::uint64_t h = k ^ size;
    if (size >= 32) {
      std::uint64_t lane[4] = {h, h + k, h ^ (k >> 7), h - k};
      for (; size >= 32; p += 32, size -= 32)
        for (std::size_t i = 0; i < 4; ++i)
          lane[i] = mix(lane[i], word(p + 8 * i));
      for (auto l : lane)
        h = mix(h, l);
    }
    for (; size >= 8; p += 8, size -= 8)
      h = mix(h, word(p));
    std::uint64_t tail = 0;
    for (std::size_t i = size; i > 0; --i)
      tail = (tail << 8) | p[i - 1];
    h = mix(mix(h, tail), k);
    return h == 0 ? 1 : h;
  }

  // Leader-side hooks. Only the driver of the leading replica calls them,
  // with its lease time in milliseconds (`lease_clock`), never from `apply`; they must not
  // change the state. They are how a machine whose commands depend on time
  // (session leases) gets the leader's clock into the log: replicas
  // themselves never read a clock.

  /// Rewrites a client command's payload as the leader proposes it (e.g.
  /// stamps `now_ms` into it). The default leaves it alone.
  /// Change it through `payload.edit()`, and only when it stamps: the bytes
  /// are shared with the driver's copies, and an edit copies them.
  virtual void stamp(shared_payload& /*payload*/, std::uint64_t /*now_ms*/) const {}

  /// Payloads the leader proposes on its own: with `elected` once right
  /// after it won an election (before any client command of its term), then
  /// on every housekeeping timer. The default proposes nothing.
  virtual std::vector<std::string> leader_commands(std::uint64_t /*now_ms*/,
                                                   bool /*elected*/) const {
    return {};
  }
};

}  // namespace ballot::paxos
