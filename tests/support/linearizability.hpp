#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

/// A linearizability checker for histories of the versioned key/value store, for tests that
/// drive real processes: clients record what they asked and what they heard (or did not hear)
/// back, and the checker decides whether some order of the operations, consistent with real
/// time, explains every answer.
///
/// The search is Wing & Gong's, with Lowe's improvements as used by Porcupine: the pending
/// calls and returns form a doubly linked list from which linearized operations are lifted and
/// put back on backtracking, and every (set of linearized operations, model state) pair is
/// visited once. Keys are independent in the model, so each key's operations are checked on
/// their own, which keeps the sets small.
///
/// The model of one key, and what it may assume about versions:
///
/// - A key is absent or present with (value, version). A successful put returns the version
///   the server assigned; the checker only assumes it is greater than the key's previous
///   version (and so greater than 0). After a delete the next version only has to be greater
///   than 0, unless `check_options::versions_survive_deletes` says the server never reuses
///   versions (an etcd-style global revision).
/// - `put(key, value, if_version?)` -> ok(version) | refused. `if_version == 0` means "create
///   only": the key must be absent. A refused put changed nothing, so it needs a condition.
/// - `get(key)` -> ok(value, version) | absent.
/// - `del(key, if_version?)` -> ok | refused (version mismatch, or the key is absent) | absent.
/// - `unknown` (writes only; a client timed out): the write took effect at some instant after
///   its invocation, or never. A get whose answer was lost constrains nothing and is ignored.
///
/// Unknown versions. An unknown-outcome put that takes effect leaves the key with a version
/// the checker never saw. The state then keeps a lower bound instead ("the version is at least
/// m", where m is one more than the previous version or bound) and the first operation that
/// reveals the version settles it: a get that reads version v needs v >= m and makes it exact;
/// a successful conditional write on v needs v >= m; a later put returning v needs v > m
/// (some version in [m, v) was the unknown one). A refused conditional write on v only rules
/// out v == m (the bound rises by one); other "not v" facts are forgotten, which can only make
/// the checker accept more, never reject a linearizable history.
///
/// Real time: an operation that returned at t and one invoked at t are treated as concurrent,
/// so coarse clocks cannot cause a false rejection.
///
/// Cost: a linearizable history is usually accepted after little backtracking (milliseconds
/// for 5,000 operations). A rejection must rule out every order, which grows with the
/// concurrency on a key and, above all, with how many unknown-outcome writes of the key are
/// pending at once: each may take effect at any later instant or never. The search prunes
/// unknown writes that are overwritten before anything observes them, which covers puts and
/// gets well; deletes let an unknown put explain much more, and a hot key with a dozen or
/// more pending unknown writes and deletes may exhaust the budget. Spreading a workload over
/// more keys keeps each key's search small.
namespace ballot::testing {

/// One client operation as a test client recorded it: what was asked and what came back.
struct kv_operation {
  enum class kind { put, get, del };
  enum class result { ok, refused, absent, unknown };

  kind op = kind::get;
  std::string key;
  /// put: the value written.
  std::string value;
  /// put and del: the condition. 0 means "the key must be absent" (put only).
  std::optional<std::uint64_t> if_version;

  result outcome = result::ok;
  /// get that returned ok: the value read.
  std::string read_value;
  /// put that returned ok: the version the server assigned; get that returned ok: the version
  /// read.
  std::uint64_t version = 0;

  /// Which client issued the operation; informative only (explanations, history files).
  std::uint64_t client = 0;
  std::int64_t invoke_ns = 0;
  /// Ignored when `outcome == result::unknown`: the operation may take effect any time after
  /// its invocation.
  std::int64_t return_ns = 0;
};

/// Knobs of a check.
struct check_options {
  /// Wall-clock time the whole check may take (each failing key gets the same again to
  /// narrow down its explanation).
  std::chrono::milliseconds budget = std::chrono::seconds{10};
  /// Whether a put after a delete must return a version greater than the deleted one (true
  /// when versions come from a global counter, as etcd's revisions do). Off by default: the
  /// checker assumes only what the model above says.
  bool versions_survive_deletes = false;
};

/// The verdict of a check.
struct check_result {
  /// True only when a linearization was found for every key. False when the history is not
  /// linearizable, and also when the budget ran out (`timed_out`): a check that proves nothing
  /// must not pass a test.
  bool linearizable = false;
  /// The budget ran out before a verdict; `linearizable` is false but nothing was proven.
  bool timed_out = false;
  /// For a rejection: the key, the earliest instant by which its history is already
  /// impossible, the longest order of its operations found up to then and the operations that
  /// cannot come next. Empty when the history is linearizable.
  std::string explanation;
  /// For a rejection: the key whose operations cannot be ordered.
  std::string key;
  /// For a rejection: indices into the checked history of the operations in the window that
  /// cannot be ordered, by invocation time (empty if narrowing it ran out of budget).
  std::vector<std::size_t> window;
};

/// Checks a history; `budget` bounds the time taken. Throws std::invalid_argument for an
/// operation the model cannot express (a get that was refused, a put refused without a
/// condition, a return before the invocation, ...): that is a bug in the recorder.
check_result check_kv_history(const std::vector<kv_operation>& history,
                              std::chrono::milliseconds budget = std::chrono::seconds{10});

/// Checks a history with explicit options.
check_result check_kv_history(const std::vector<kv_operation>& history,
                              const check_options& options);

/// History files: one operation a line, fields separated by spaces, `#` starts a comment.
///
///     <client> <invoke_ns> <return_ns|inf> put <key> <value> [if=<version>] -> ok <version>
///                                                                          | refused | unknown
///     <client> <invoke_ns> <return_ns|inf> get <key> -> ok <value> <version> | absent
///     <client> <invoke_ns> <return_ns|inf> del <key> [if=<version>] -> ok | refused | absent
///                                                                   | unknown
///
/// Keys and values are percent-encoded: bytes up to space, from DEL up, '%' and '"' become
/// %XX, and the empty string is written "". The return time of an unknown outcome is `inf`.
std::string format_operation(const kv_operation& op);

/// Writes a history in the format above, with a header comment.
void write_history(std::ostream& out, const std::vector<kv_operation>& history);

/// Reads a history in the format above. Throws std::invalid_argument naming the line for
/// anything it cannot parse.
std::vector<kv_operation> read_history(std::istream& in);

}  // namespace ballot::testing
