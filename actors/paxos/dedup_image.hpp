#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/paxos/recent_results.hpp"

namespace ballot::paxos {

/// One client's entry in the replicated dedup table: the results of its most
/// recent applied sequence numbers, and the seq at or below which it forgot.
struct client_record {
  std::uint64_t client = 0;
  std::vector<std::pair<std::uint64_t, std::string>> results;
  std::uint64_t forgotten = 0;
  /// The fingerprint of each result's command (`state_machine::fingerprint`),
  /// in the order of `results`; 0 = unknown (a snapshot from before they
  /// were kept), which matches any command.
  std::vector<std::uint64_t> fingerprints;
  /// Log time of the client's last applied command (0 = unknown).
  std::uint64_t last_active_ms = 0;

  friend bool operator==(const client_record& a, const client_record& b) {
    return a.client == b.client && a.results == b.results && a.forgotten == b.forgotten &&
           a.fingerprints == b.fingerprints && a.last_active_ms == b.last_active_ms;
  }
};

/// The dedup table's part of a snapshot: its records, or the learner's rows
/// as they were at the snapshot (shared, copy on write: recent_results), made
/// into records when first needed (issue 14).
///
/// Copying every client's results into records took the replica's thread
/// 1-12 ms per snapshot with a few hundred clients, while every commit
/// waited. Capturing the rows costs a reference count per client; the
/// storage's background thread, or a member's link sending the snapshot,
/// makes the records. Like machine_image: immutable, copies share one image
/// (and make the records once), compared by records.
class dedup_image {
 public:
  /// One client's row as the learner held it at the snapshot.
  struct captured_row {
    std::uint64_t client = 0;
    std::uint64_t forgotten = 0;
    std::uint64_t last_active_ms = 0;
    recent_results results;  ///< shares the learner's row until it changes
  };

  /// No clients.
  dedup_image() = default;
  /// These records (implicit: decoders and tests build a snapshot from them).
  dedup_image(std::vector<client_record> records);           // NOLINT(google-explicit-constructor)
  dedup_image(std::initializer_list<client_record> records)  // NOLINT(google-explicit-constructor)
      : dedup_image(std::vector<client_record>(records)) {}
  /// These rows, made into records on the first `records`.
  explicit dedup_image(std::vector<captured_row> rows);

  /// The records, in the order given. Captured rows are made into records on
  /// the first call, on the caller's thread (a concurrent caller waits for
  /// it); the rows are then let go, so the learner changes them in place
  /// again.
  const std::vector<client_record>& records() const;

  /// The number of clients, without making the records.
  std::size_t size() const { return impl_ ? impl_->count : 0; }
  bool empty() const { return size() == 0; }
  /// Whether the records exist (given, or made already).
  bool made() const { return !impl_ || impl_->ready.load(std::memory_order_acquire); }

  std::vector<client_record>::const_iterator begin() const { return records().begin(); }
  std::vector<client_record>::const_iterator end() const { return records().end(); }
  const client_record& operator[](std::size_t i) const { return records()[i]; }

  friend bool operator==(const dedup_image& a, const dedup_image& b) {
    return a.impl_ == b.impl_ || a.records() == b.records();
  }
  friend bool operator!=(const dedup_image& a, const dedup_image& b) { return !(a == b); }

 private:
  struct impl {
    /// Set (release) once `records` holds the final records.
    std::atomic<bool> ready{false};
    /// Held while the rows are made into records.
    std::mutex making;
    std::vector<captured_row> rows;
    std::vector<client_record> records;
    std::size_t count = 0;
  };
  static const std::vector<client_record>& no_records();
  std::shared_ptr<impl> impl_;
};

// Inline, as machine_image: every library that carries a snapshot uses it
// without linking the core.

inline const std::vector<client_record>& dedup_image::no_records() {
  static const std::vector<client_record> none;
  return none;
}

inline dedup_image::dedup_image(std::vector<client_record> records)
    : impl_(std::make_shared<impl>()) {
  impl_->count = records.size();
  impl_->records = std::move(records);
  impl_->ready.store(true, std::memory_order_release);
}

inline dedup_image::dedup_image(std::vector<captured_row> rows) : impl_(std::make_shared<impl>()) {
  impl_->count = rows.size();
  impl_->rows = std::move(rows);
}

inline const std::vector<client_record>& dedup_image::records() const {
  if (!impl_)
    return no_records();
  if (!impl_->ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(impl_->making);
    if (!impl_->ready.load(std::memory_order_relaxed)) {
      // May throw (out of memory): then nothing changed and a later call
      // tries again.
      std::vector<client_record> out;
      out.reserve(impl_->rows.size());
      for (const auto& row : impl_->rows) {
        client_record rec;
        rec.client = row.client;
        rec.forgotten = row.forgotten;
        rec.last_active_ms = row.last_active_ms;
        rec.results.reserve(row.results.size());
        rec.fingerprints.reserve(row.results.size());
        for (const auto& [seq, r] : row.results) {
          rec.results.emplace_back(seq, r.bytes);
          rec.fingerprints.push_back(r.fingerprint);
        }
        out.push_back(std::move(rec));
      }
      impl_->records = std::move(out);
      // Let the learner's rows go: it need not copy them on its next change.
      std::vector<captured_row>().swap(impl_->rows);
      impl_->ready.store(true, std::memory_order_release);
    }
  }
  return impl_->records;
}

}  // namespace ballot::paxos
