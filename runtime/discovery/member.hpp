#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/kv/event.hpp"

/// Service discovery through the lock service: the pure part (no CAF, no
/// client), shared by workers (`registration.hpp`) and balancers
/// (`discovery.hpp`).
namespace ballot::discovery {

/// What a worker registers under its key: where its actor is published
/// through CAF's middleman, and how much traffic it wants.
///
/// Encoded as `host:port` followed by optional `;name=value` attributes:
/// `weight=N` (1..1000000, default 1) and `max=N` (its own limit of
/// outstanding requests, 0 = none). An IPv6 host is written in brackets
/// (`[::1]:7500`). Unknown attributes are ignored, so that newer workers may
/// add some.
struct member_address {
  std::string host;
  std::uint16_t port = 0;
  std::uint32_t weight = 1;
  std::optional<std::uint32_t> max_outstanding;

  /// "host:port" (brackets around an IPv6 host).
  std::string endpoint() const;

  friend bool operator==(const member_address& a, const member_address& b) {
    return a.host == b.host && a.port == b.port && a.weight == b.weight &&
           a.max_outstanding == b.max_outstanding;
  }
  friend bool operator!=(const member_address& a, const member_address& b) { return !(a == b); }
};

constexpr std::uint32_t max_weight = 1'000'000;

/// `host:port[;weight=N][;max=N]` (attributes left out at their defaults).
std::string encode(const member_address& a);

/// The address in `text`, or nullopt (then `why`, if given, names the problem).
std::optional<member_address> decode(std::string_view text, std::string* why = nullptr);

/// One change of the membership, as a balancer must carry it out.
struct change {
  enum class kind : std::uint8_t {
    join,    ///< a new member at `address`
    update,  ///< a member's address changed (`address` is the new one)
    leave,   ///< the member is gone
    reject,  ///< the key holds a value that does not decode (`message`); not a member
  };
  kind what = kind::join;
  /// The full key: it names the worker in the balancer.
  std::string key;
  member_address address;
  std::string message;

  friend bool operator==(const change& a, const change& b) {
    return a.what == b.what && a.key == b.key && a.address == b.address && a.message == b.message;
  }
};

const char* to_string(change::kind k);

/// The members under a prefix as a balancer sees them, fed with a listing
/// (`reset`) and then with the watch's events after the listing's revision
/// (`apply`). Each key remembers the revision of the value it holds, so an
/// event that is older than what a listing already showed is ignored: the
/// listing's values may be read a little after its revision, and the watch
/// replays everything after it.
class member_table {
 public:
  /// One key of a listing: its value and version (the revision of its last put).
  struct listed {
    std::string value;
    std::uint64_t version = 0;
  };

  /// Replaces the view with a listing: keys not in it leave.
  std::vector<change> reset(const std::map<std::string, listed>& listing);

  /// One watch event.
  std::vector<change> apply(const kv::event& e);

  /// The members (keys with a valid value) and their addresses.
  std::map<std::string, member_address> members() const;

 private:
  struct entry {
    std::optional<member_address> address;  ///< nullopt: the value did not decode
    std::uint64_t version = 0;
  };

  void put(const std::string& key, const std::string& value, std::uint64_t version,
           std::vector<change>& out);
  void erase(const std::string& key, std::vector<change>& out);

  std::map<std::string, entry> keys_;
};

}  // namespace ballot::discovery
