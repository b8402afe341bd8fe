#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace ballot::kv {

/// Immutable bytes shared by reference, in one allocation (a count, the
/// size, then the bytes), the count atomic: copies on other threads (a
/// frozen snapshot being encoded) may hold and drop them while the key space
/// goes on. Empty bytes allocate nothing. One allocation per value where a
/// std::shared_ptr<const std::string> takes two and 48 bytes more: a key
/// space of small values costs about what it did with plain strings.
class shared_bytes {
 public:
  shared_bytes() = default;
  explicit shared_bytes(std::string_view bytes) {
    if (bytes.empty())
      return;
    void* mem = ::operator new(sizeof(rep) + bytes.size());
    rep_ = new (mem) rep{{1}, bytes.size()};
    std::memcpy(rep_->data(), bytes.data(), bytes.size());
  }
  shared_bytes(const shared_bytes& other) noexcept : rep_(other.rep_) {
    if (rep_)
      rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  shared_bytes(shared_bytes&& other) noexcept : rep_(std::exchange(other.rep_, nullptr)) {}
  shared_bytes& operator=(shared_bytes other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~shared_bytes() {
    // The last holder frees; acq_rel so its reads of the bytes happen before.
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      rep_->~rep();
      ::operator delete(rep_);
    }
  }

  std::string_view view() const {
    return rep_ ? std::string_view{rep_->data(), rep_->size} : std::string_view{};
  }
  std::size_t size() const { return rep_ ? rep_->size : 0; }
  /// Whether both hold the same allocation (not merely equal bytes).
  bool same(const shared_bytes& other) const { return rep_ == other.rep_; }
  /// How many hold these bytes now (0 for none): what keeps them alive.
  std::size_t holders() const { return rep_ ? rep_->refs.load(std::memory_order_relaxed) : 0; }

 private:
  struct rep {
    std::atomic<std::size_t> refs;
    std::size_t size;
    char* data() { return reinterpret_cast<char*>(this + 1); }
  };
  rep* rep_ = nullptr;
};

}  // namespace ballot::kv
