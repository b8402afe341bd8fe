#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
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
    if (rows_.empty() || seq < rows_.front().first || seq > rows_.back().first)
      return nullptr;
    if (seq == rows_.back().first)
      return &rows_.back().second;
    auto it = lower(rows_, seq);
    return it != rows_.end() && it->first == seq ? &it->second : nullptr;
  }

  /// Records `r` for `seq`, replacing what was recorded for it.
  void put(std::uint64_t seq, result r) {
    if (rows_.empty() || seq > rows_.back().first) {
      rows_.emplace_back(seq, std::move(r));
      return;
    }
    auto it = lower(rows_, seq);
    if (it != rows_.end() && it->first == seq)
      it->second = std::move(r);
    else
      rows_.emplace(it, seq, std::move(r));  // out of order: rare, at most a window's moves
  }

  /// Forgets the oldest seq and returns it; the row must not be empty.
  std::uint64_t pop_oldest() {
    auto seq = rows_.front().first;
    rows_.pop_front();
    return seq;
  }

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  /// In seq order.
  std::deque<entry>::const_iterator begin() const { return rows_.begin(); }
  std::deque<entry>::const_iterator end() const { return rows_.end(); }

 private:
  /// The first row at or after `seq`, of `rows` (const or not).
  template <class Rows>
  static auto lower(Rows& rows, std::uint64_t seq) -> decltype(rows.begin()) {
    return std::lower_bound(rows.begin(), rows.end(), seq,
                            [](const entry& e, std::uint64_t s) { return e.first < s; });
  }

  std::deque<entry> rows_;
};

}  // namespace ballot::paxos
