#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "actors/kv/key_space.hpp"
#include "actors/kv/request.hpp"
#include "actors/kv/result.hpp"
#include "actors/paxos/state_machine.hpp"

namespace ballot::kv {

/// The key/value state machine behind Ballot's client API, with etcd-style
/// versions: a store-wide revision counts successful writes (puts and
/// deletes), and a key's version is the revision of its last put. Versions
/// therefore strictly increase per key, also across delete and re-create, which
/// is what makes `if_version` a safe compare-and-set.
///
/// Payloads and queries are `command_codec` requests; answers are encoded
/// `result`s. `apply` accepts every request (a read through the log is still
/// linearizable); `query` accepts only reads. A malformed payload yields a
/// bad_request result and changes nothing: every replica must reach the same
/// state and answer from the same log, so nothing here throws, reads a clock
/// or depends on anything but the state and the payload.
class kv_store final : public paxos::state_machine {
 public:
  std::string apply(const std::string& payload) override;

  std::string query(const std::string& request) const override;

  /// The whole store: the key space (items, revision counter, watch history),
  /// so a restored store answers and numbers the next write exactly as this
  /// one would. Deterministic (items in key order), so replicas with the same
  /// state produce the same bytes: `format:u8 (= 2)` then `key_space::save`.
  std::optional<std::string> snapshot() const override;
  /// The store as of now, its key space copied with shared values (see
  /// kv::frozen_keys).
  std::shared_ptr<const paxos::frozen_state> freeze() const override;

  /// Replaces the whole store with a `snapshot`. Throws std::runtime_error
  /// naming the field and offset if the bytes are not one (a replica must not
  /// run on a damaged state), and then leaves the store unchanged.
  void restore(const std::string& snapshot) override;

  /// Executes one decoded request (what `apply` does after decoding).
  result execute(const request& req);

  /// Answers a decoded read; a write yields bad_request.
  result read(const request& req) const;

  /// Number of successful writes so far.
  std::uint64_t revision() const { return keys_.revision(); }

  const std::map<std::string, key_space::entry>& items() const { return keys_.keys(); }

  const key_space& keys() const { return keys_; }

 private:
  key_space keys_;
};

}  // namespace ballot::kv
