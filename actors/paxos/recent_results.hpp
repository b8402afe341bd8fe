#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

/// One client's row of the learner's dedup table: the results of its most
/// recent applied sequence numbers, in seq order.
///
/// A client's seqs arrive almost in order, so the row is a deque sorted by
/// seq: the common command appends at the back and the oldest leaves at the
/// front, each without an allocation per command, and a lookup reads
/// contiguous blocks. A `std::map` here cost a node allocation and a free per
/// applied command, and its lookup, a chase through nodes scattered over the
/// heap, was most of the learner's apply time under 64 clients of puts
/// (bench/README "The dedup table").
///
/// A copy shares the rows until either side changes them (copy on write): a
/// snapshot captures every client's row at the cost of a reference count
/// (dedup_image), and the learner copies a row only when it next changes it,
/// one client at a time, instead of copying the whole table while every
/// commit waits. A row the snapshot's holder has let go is changed in place
/// again.
namespace ballot::paxos {

class recent_results {
 public:
  struct result {
    std::uint64_t fingerprint = 0;
    std::string bytes;
  };
  using entry = std::pair<std::uint64_t, result>;

  /// The result recorded for `seq`, or null.
  const result* find(std::uint64_t seq) const {
    const auto& rows = view();
    if (rows.empty() || seq < rows.front().first || seq > rows.back().first)
      return nullptr;
    if (seq == rows.back().first)
      return &rows.back().second;
    auto it = lower(rows, seq);
    return it != rows.end() && it->first == seq ? &it->second : nullptr;
  }

  /// Records `r` for `seq`, replacing what was recorded for it.
  void put(std::uint64_t seq, result r) {
    auto& rows = own();
    if (rows.empty() || seq > rows.back().first) {
      rows.emplace_back(seq, std::move(r));
      return;
    }
    auto it = lower(rows, seq);
    if (it != rows.end() && it->first == seq)
      it->second = std::move(r);
    else
      rows.emplace(it, seq, std::move(r));  // out of order: rare, at most a window's moves
  }

  /// Forgets the oldest seq and returns it; the row must not be empty.
  std::uint64_t pop_oldest() {
    auto& rows = own();
    auto seq = rows.front().first;
    rows.pop_front();
    return seq;
  }

  std::size_t size() const { return view().size(); }
  bool empty() const { return view().empty(); }
  /// In seq order.
  std::deque<entry>::const_iterator begin() const { return view().begin(); }
  std::deque<entry>::const_iterator end() const { return view().end(); }

  /// Whether a copy (or the copy of a copy) still shares these rows. Tests
  /// and benchmarks only: another thread may let go at any time.
  bool shared() const { return rows_ && rows_.use_count() > 1; }

 private:
  using rows_type = std::deque<entry>;

  /// The first row at or after `seq`, of `rows` (const or not).
  template <class Rows>
  static auto lower(Rows& rows, std::uint64_t seq) -> decltype(rows.begin()) {
    return std::lower_bound(rows.begin(), rows.end(), seq,
                            [](const entry& e, std::uint64_t s) { return e.first < s; });
  }

  const rows_type& view() const {
    static const rows_type none;
    return rows_ ? *rows_ : none;
  }

  /// The rows, to change: copied first while a copy of this row shares them.
  rows_type& own() {
    if (!rows_) {
      rows_ = std::make_shared<rows_type>();
#ifndef BALLOT_MUTANT_SHARED_DEDUP_ROWS
    } else if (rows_.use_count() > 1) {
#else
    } else if (false) {
#endif
      rows_ = std::make_shared<rows_type>(*rows_);
    } else {
      // The last other holder let go on another thread (a snapshot's,
      // once made into records): its reads happened before its release of
      // the count, which this fence orders before the writes that follow.
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *rows_;
  }

  std::shared_ptr<rows_type> rows_;
};

}  // namespace ballot::paxos
