#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace ballot::paxos {

/// A command's payload: immutable bytes shared by reference.
///
/// A command is copied many times between the gateway and the disk: into the
/// proposer's batch, the acceptor's vote, each follower's phase 2a, the
/// learner's chosen value and the records to persist. With a value of 1 MB
/// each copy cost a megabyte of memcpy into freshly faulted pages, which
/// was most of a large put's CPU on the leader (bench/README, "1 MB puts").
/// Here a copy costs a reference count; the bytes are written once.
///
/// It reads as a `const std::string&`, so code that only looks at the bytes
/// is unchanged. `edit` hands out a private copy to change (the leader stamps
/// lock commands). Copies may live on other threads (CAF messages, the
/// storage's background thread): the bytes never change while shared, and
/// the count is atomic.
class shared_payload {
 public:
  shared_payload() = default;
  shared_payload(std::string bytes)  // NOLINT(google-explicit-constructor)
      : rep_(bytes.empty() ? nullptr : std::make_shared<std::string>(std::move(bytes))) {}
  shared_payload(const char* bytes)  // NOLINT(google-explicit-constructor)
      : shared_payload(std::string{bytes}) {}

  const std::string& str() const { return rep_ ? *rep_ : no_bytes(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  operator std::string_view() const { return str(); }    // NOLINT(google-explicit-constructor)

  std::size_t size() const { return rep_ ? rep_->size() : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return str().data(); }
  char operator[](std::size_t i) const { return str()[i]; }

  /// The bytes, to change: copied first when another holder shares them, so
  /// no other copy of the command ever sees the change.
  std::string& edit() {
    if (!rep_)
      rep_ = std::make_shared<std::string>();
    else if (rep_.use_count() != 1)
      rep_ = std::make_shared<std::string>(*rep_);
    return *rep_;
  }

  /// Whether both hold the same allocation (not merely equal bytes).
  bool same(const shared_payload& other) const { return rep_ == other.rep_; }

  friend bool operator==(const shared_payload& a, const shared_payload& b) {
    return a.rep_ == b.rep_ || a.str() == b.str();
  }
  friend bool operator!=(const shared_payload& a, const shared_payload& b) { return !(a == b); }
  friend bool operator==(const shared_payload& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const shared_payload& a, const char* b) { return a.str() == b; }
  friend bool operator<(const shared_payload& a, const shared_payload& b) {
    return a.str() < b.str();
  }

 private:
  static const std::string& no_bytes() {
    static const std::string empty;
    return empty;
  }
  /// Never changed while `use_count() > 1` (see `edit`).
  std::shared_ptr<std::string> rep_;
};

}  // namespace ballot::paxos
