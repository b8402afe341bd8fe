#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
  struct item {
    std::string value;
    std::uint64_t version = 0;
  };

  std::string apply(const std::string& payload) override;

  std::string query(const std::string& request) const override;

  /// The whole store: every item and the revision counter, so a restored
  /// store answers and numbers the next write exactly as this one would.
  /// Deterministic (items in key order), so replicas with the same state
  /// produce the same bytes. Format, in the command codec's encoding:
  ///
  ///     format:u8 (= 1) revision:u64 count:u64 (key value version:u64)*count
  std::optional<std::string> snapshot() const override;

  /// Replaces the whole store with a `snapshot`. Throws std::runtime_error
  /// naming the field and offset if the bytes are not one (a replica must not
  /// run on a damaged state), and then leaves the store unchanged.
  void restore(const std::string& snapshot) override;

  /// Executes one decoded request (what `apply` does after decoding).
  result execute(const request& req);

  /// Answers a decoded read; a write yields bad_request.
  result read(const request& req) const;

  /// Number of successful writes so far.
  std::uint64_t revision() const { return revision_; }

  const std::map<std::string, item>& items() const { return items_; }

 private:
  result put(const put_request& req);
  result del(const del_request& req);
  result get(const get_request& req) const;
  result list(const list_request& req) const;

  std::map<std::string, item> items_;
  std::uint64_t revision_ = 0;
};

}  // namespace ballot::kv
