#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// The pure core of following the leader for one call: which member to try
/// next and when, given the answers so far (success, no answer, not_leader
/// with or without a hint, overloaded) and `now`. No clock, socket or actor:
/// the driver sends, the core decides. One definition for the embedded
/// clients' caller (actors/replica/group_caller.cpp), the gateway's bridge
/// (runtime/gateway/bridge.cpp) and the C++ client (runtime/client/client.cpp);
/// members are whatever ids the driver uses (replica ids, endpoint slots).
///
/// The rules, and how they differ from what each driver did before:
///
/// - A hint that names another node than the one that answered is followed
///   at once, up to `max_hops` hints in a row (the bridge and the client
///   followed 3; the caller followed any number). Hints the driver cannot
///   reach are its to drop before telling the core (the caller drops hints
///   outside its replica map).
/// - No answer, or not_leader without a usable hint: the next member in list
///   order is tried at once; once every member failed since the last pause,
///   the follower pauses `round_pause` (an election takes a moment) and the
///   hop count starts over. The client did exactly that (50 ms); the bridge,
///   whose list is its own replica only, parks for its retry_delay; the
///   caller paused 10 ms after every hint-less not_leader and never after a
///   silent replica.
/// - Overloaded: the same member again after a pause of `overload_first`,
///   doubling to `overload_max`, drawn from [p/2, p] with the driver's random
///   number so clients refused together do not return together (the client's
///   rule; the caller paused a fixed 20 ms; the bridge answers overloaded to
///   its caller and does not retry).
/// - A pause that would end at or after the deadline gives up now (the
///   bridge's rule; the client capped the pause and gave up after it).
/// - The next call starts where this one ended (`target()`): at the member
///   that answered, or the one after the last failure (all three drivers
///   kept such a guess, each its own way).
namespace ballot::routing {

struct follower_config {
  /// Leader hints followed in a row before the follower starts a new round.
  std::size_t max_hops = 3;
  /// The pause once every member failed since the last pause.
  std::chrono::milliseconds round_pause{50};
  /// The pause after the first overloaded answer; each later one doubles.
  std::chrono::milliseconds overload_first{20};
  std::chrono::milliseconds overload_max{200};
};

/// "" if `c` is usable, else why not, naming the field and its value.
std::string validate(const follower_config& c);

class leader_follower {
 public:
  using member_id = std::uint64_t;
  using time_point = std::chrono::steady_clock::time_point;

  enum class verdict {
    try_now,  ///< send to `member` now
    pause,    ///< nothing before `at`
    give_up,  ///< the deadline passed, or a pause would reach it
  };

  struct next_try {
    verdict what = verdict::try_now;
    member_id member = 0;
    time_point at{};
  };

  /// `members`: tried in this order after failures (not empty, no
  /// duplicates); `start`: the first try (a member, or a node the driver
  /// learnt of outside the list). Throws std::invalid_argument if `cfg` or
  /// `members` is not usable.
  leader_follower(const follower_config& cfg, std::vector<member_id> members, member_id start,
                  time_point deadline);

  /// What to do at `now`.
  next_try next(time_point now) const;

  /// The target answered the call: it is where the next call starts.
  void succeeded();
  /// The target did not answer (timeout, broken link, unknown address).
  void failed(time_point now);
  /// The target does not lead; `hint`: the leader it names, if any.
  void not_leader(std::optional<member_id> hint, time_point now);
  /// The target refused for now, before doing anything; `random` spreads the
  /// pause (any number: the driver's random source).
  void overloaded(std::uint64_t random, time_point now);

  /// The member tried now (or next): the start of the driver's next call.
  member_id target() const { return target_; }
  /// Whether the latest answer was overloaded (the driver keeps that answer
  /// to return it if the follower gives up).
  bool last_overloaded() const { return last_overloaded_; }
  std::size_t hops() const { return hops_; }
  time_point deadline() const { return deadline_; }

 private:
  member_id after(member_id id) const;

  follower_config cfg_;
  std::vector<member_id> members_;
  member_id target_;
  time_point deadline_;
  /// No try before this (a pause).
  time_point resume_at_{};
  /// Members that failed since the last pause.
  std::size_t failures_ = 0;
  std::size_t hops_ = 0;
  int overloads_ = 0;
  bool last_overloaded_ = false;
};

}  // namespace ballot::routing
