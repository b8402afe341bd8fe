// The factory, the names of the kinds, and the request-key hash.
#include "actors/balance/policies/policy.hpp"

#include <cstring>

#include "actors/balance/policies/least_outstanding.hpp"
#include "actors/balance/policies/maglev.hpp"
#include "actors/balance/policies/mix.hpp"
#include "actors/balance/policies/power_of_two.hpp"
#include "actors/balance/policies/random.hpp"
#include "actors/balance/policies/ring_hash.hpp"
#include "actors/balance/policies/round_robin.hpp"
#include "actors/balance/policies/weighted_round_robin.hpp"

namespace ballot::balance {

std::unique_ptr<policy> make_policy(policy_kind kind, const policy_options& opts) {
  switch (kind) {
    case policy_kind::random:
      return std::make_unique<random_policy>(opts.seed);
    case policy_kind::round_robin:
      return std::make_unique<round_robin_policy>(opts.seed);
    case policy_kind::weighted_round_robin:
      return std::make_unique<weighted_round_robin_policy>();
    case policy_kind::least_outstanding:
      return std::make_unique<least_outstanding_policy>(opts.seed);
    case policy_kind::power_of_two:
      return std::make_unique<power_of_two_policy>(opts.seed);
    case policy_kind::ring_hash:
      return std::make_unique<ring_hash_policy>(opts.vnodes, opts.epsilon);
    case policy_kind::maglev:
      return std::make_unique<maglev_policy>(opts.maglev_table_size);
  }
  return nullptr;  // not a declared kind
}

const char* to_string(policy_kind kind) {
  switch (kind) {
    case policy_kind::random:
      return "random";
    case policy_kind::round_robin:
      return "round-robin";
    case policy_kind::weighted_round_robin:
      return "weighted-round-robin";
    case policy_kind::least_outstanding:
      return "least-outstanding";
    case policy_kind::power_of_two:
      return "power-of-two";
    case policy_kind::ring_hash:
      return "ring-hash";
    case policy_kind::maglev:
      return "maglev";
  }
  return "unknown";
}

std::optional<policy_kind> parse_policy_kind(std::string_view name) {
  for (auto kind : all_policy_kinds())
    if (name == to_string(kind))
      return kind;
  if (name == "rr")
    return policy_kind::round_robin;
  if (name == "wrr")
    return policy_kind::weighted_round_robin;
  if (name == "p2c")
    return policy_kind::power_of_two;
  return std::nullopt;
}

std::vector<policy_kind> all_policy_kinds() {
  return {policy_kind::random,
          policy_kind::round_robin,
          policy_kind::weighted_round_robin,
          policy_kind::least_outstanding,
          policy_kind::power_of_two,
          policy_kind::ring_hash,
          policy_kind::maglev};
}

namespace {

/// Little-endian on every host, so the hash of a key is the same everywhere.
std::uint64_t load_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

// Eight bytes at a time through a strong bijective mixer, with the length
// folded in first (so "a" and "a\0" differ) and a final mix so that every
// input bit reaches every output bit. Not cryptographic: keys that a client
// chooses to collide can collide; balancing only needs spread and stability.
// The values must never change (balancers of different versions must agree),
// which the golden values in the tests pin.
std::uint64_t hash_key(std::string_view key) {
  auto p = reinterpret_cast<const unsigned char*>(key.data());
  auto n = key.size();
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ (std::uint64_t{n} * 0x9E3779B97F4A7C15ULL);
  for (; n >= 8; p += 8, n -= 8)
    h = mix64(h ^ load_le(p, 8)) + 0x13198A2E03707344ULL;
  if (n > 0)
    h = mix64(h ^ load_le(p, n)) + 0xA4093822299F31D0ULL;
  return mix64(h);
}

}  // namespace ballot::balance
