#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

/// The byte-level encoding shared by the key/value store's formats (the
/// command codec and the store's snapshot): fixed-width little-endian
/// integers and strings as a u32 length followed by their bytes.
namespace ballot::kv::detail {

/// Appends fixed-width little-endian integers and length-prefixed strings.
class writer {
 public:
  template <class T>
  void integer(T x) {
    static_assert(std::is_unsigned_v<T>);
    // One append, not a push_back per byte: a snapshot writes millions.
    char bytes[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes[i] = static_cast<char>((x >> (8 * i)) & 0xff);
    out_.append(bytes, sizeof(T));
    drain_if_full();
  }

  void string(std::string_view s) {
    integer(static_cast<std::uint32_t>(s.size()));
    if (sink_ && s.size() >= piece_) {
      // A large value goes to the sink as it is: no copy of it is made.
      drain();
      (*sink_)(s);
      return;
    }
    out_.append(s);
    drain_if_full();
  }

  void optional(const std::optional<std::uint64_t>& x) {
    integer(static_cast<std::uint8_t>(x ? 1 : 0));
    if (x)
      integer(*x);
  }

  /// Appends bytes another writer wrote (no length).
  void raw(std::string_view s) {
    out_.append(s);
    drain_if_full();
  }

  /// From now on, hands what was written to `sink` (which must outlive the
  /// writer's use) whenever `piece` bytes have gathered, so that a snapshot
  /// of GiBs is never one string (issue 9); `drain` hands over the rest.
  /// One piece may exceed `piece` by the last string written.
  void drain_to(const std::function<void(std::string_view)>& sink, std::size_t piece) {
    sink_ = &sink;
    piece_ = piece;
    out_.reserve(piece);
  }

  /// Hands everything written and not yet handed over to the sink.
  void drain() {
    if (sink_ && !out_.empty()) {
      (*sink_)(out_);
      out_.clear();
    }
  }

  /// Makes room for `more` bytes after those written, in one allocation:
  /// a snapshot of hundreds of MiB that grows by doubling copies itself
  /// again and again on the replica's thread (issue 9).
  void reserve(std::size_t more) { out_.reserve(out_.size() + more); }

  std::size_t size() const { return out_.size(); }

  std::string take() { return std::move(out_); }

 private:
  void drain_if_full() {
    if (sink_ && out_.size() >= piece_)
      drain();
  }

  std::string out_;
  const std::function<void(std::string_view)>* sink_ = nullptr;
  std::size_t piece_ = 0;
};

/// Reads what `writer` wrote. Every read checks the remaining length first and
/// records the first failure, so callers can read a whole message and check once.
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  template <class T>
  bool integer(T& x, const char* field) {
    if (in_.size() - pos_ < sizeof(T))
      return fail(field, "truncated");
    x = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      x |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i));
    pos_ += sizeof(T);
    return true;
  }

  bool string(std::string& x, const char* field) {
    std::string_view view;
    if (!string(view, field))
      return false;
    x.assign(view);
    return true;
  }

  /// A string's bytes in the input, not copied (valid while the input is).
  bool string(std::string_view& x, const char* field) {
    auto start = pos_;
    std::uint32_t len = 0;
    if (!integer(len, field))
      return false;
    if (in_.size() - pos_ < len) {
      auto left = in_.size() - pos_;
      pos_ = start;  // report the field's own offset
      return fail(field, "length " + std::to_string(len) + " exceeds the " + std::to_string(left) +
                           " bytes left");
    }
    x = in_.substr(pos_, len);
    pos_ += len;
    return true;
  }

  bool flag(bool& x, const char* field) {
    std::uint8_t byte = 0;
    if (!integer(byte, field))
      return false;
    if (byte > 1)
      return fail(field, "flag byte is " + std::to_string(byte) + ", not 0 or 1");
    x = byte == 1;
    return true;
  }

  /// Reads an item count and refuses one that cannot fit the bytes left at
  /// `min_item_bytes` each: a damaged count must neither loop long nor make
  /// the caller reserve much.
  template <class T>
  bool count(T& n, std::size_t min_item_bytes, const char* field) {
    if (!integer(n, field))
      return false;
    if (n > remaining() / min_item_bytes)
      return fail(field, std::to_string(n) + " items cannot fit in " + std::to_string(remaining()) +
                           " bytes");
    return true;
  }

  bool optional(std::optional<std::uint64_t>& x, const char* field) {
    bool present = false;
    if (!flag(present, field))
      return false;
    x.reset();
    if (!present)
      return true;
    std::uint64_t value = 0;
    if (!integer(value, field))
      return false;
    x = value;
    return true;
  }

  bool finish() {
    if (pos_ != in_.size())
      return fail("end", std::to_string(in_.size() - pos_) + " trailing bytes");
    return true;
  }

  std::size_t remaining() const { return in_.size() - pos_; }

  bool fail(const char* field, const std::string& why) {
    if (error_.empty())
      error_ = std::string{field} + " at offset " + std::to_string(pos_) + ": " + why;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace ballot::kv::detail
