#include "tests/support/linearizability.hpp"

#include <algorithm>
#include <charconv>
#include <istream>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace ballot::testing {

namespace {

using clock_type = std::chrono::steady_clock;
using kind = kv_operation::kind;
using result = kv_operation::result;

/// The return time of an operation whose outcome is unknown: it may take effect at any
/// instant after its invocation, so nothing has to be ordered after it.
constexpr std::int64_t never_returned = std::numeric_limits<std::int64_t>::max();

// -- the model of one key -----------------------------------------------------------------

/// Values are interned per key so that model states are small and cheap to hash.
using value_id = std::int32_t;
constexpr value_id no_value = -1;
/// What a get that read a value no put of its key ever wrote refers to: no state holds it.
constexpr value_id unwritten_value = -2;

/// What a candidate order tells about one key. `version` is read so that "a put must return
/// more than `version`" holds in every case:
/// - present and `exact`: the key's version;
/// - present, not `exact` (an unknown-outcome put took effect): a lower bound, the real
///   version is `version` or more;
/// - absent: the floor for the next put (0, or the last version if versions survive deletes).
struct model_state {
  value_id value = no_value;
  std::uint64_t version = 0;
  bool exact = false;

  bool present() const { return value != no_value; }

  friend bool operator==(const model_state& x, const model_state& y) {
    return x.value == y.value && x.version == y.version && x.exact == y.exact;
  }
};

/// One operation of one key, in the form the search uses.
struct key_op {
  /// Index into the checked history.
  std::size_t index = 0;
  kind op = kind::get;
  result outcome = result::ok;
  /// put: the value written; get: the value read.
  value_id value = no_value;
  std::optional<std::uint64_t> if_version;
  std::uint64_t version = 0;
  std::int64_t invoke = 0;
  std::int64_t ret = 0;

  /// Unknown outcomes are optional: the search may leave them out.
  bool known() const { return outcome != result::unknown; }
};

/// Settles the key's version to `v` if it can be `v`.
bool pin(model_state& s, std::uint64_t v) {
  if (s.exact)
    return s.version == v;
  if (v < s.version)
    return false;
  s.version = v;
  s.exact = true;
  return true;
}

/// Records that the (present) key's version is not `v`; false if it must be `v`. Of an
/// unknown version only the lower bound is kept, so only "not the bound" can be learned.
bool exclude(model_state& s, std::uint64_t v) {
  if (s.exact)
    return s.version != v;
  if (s.version == v)
    ++s.version;
  return true;
}

/// Whether a write's condition holds, settling an unknown version the condition names.
bool condition_holds(model_state& s, const std::optional<std::uint64_t>& if_version) {
  if (!if_version)
    return true;
  if (*if_version == 0)
    return !s.present();
  return s.present() && pin(s, *if_version);
}

/// Whether a put's condition can fail (it was refused).
bool condition_fails(model_state& s, const std::optional<std::uint64_t>& if_version) {
  if (*if_version == 0)
    return s.present();
  return !s.present() || exclude(s, *if_version);
}

std::optional<model_state> step_get(model_state s, const key_op& op) {
  if (op.outcome == result::absent)
    return s.present() ? std::nullopt : std::optional{s};
  if (!s.present() || s.value != op.value || !pin(s, op.version))
    return std::nullopt;
  return s;
}

std::optional<model_state> step_put(model_state s, const key_op& op) {
  if (op.outcome == result::refused)
    return condition_fails(s, op.if_version) ? std::optional{s} : std::nullopt;
  if (!condition_holds(s, op.if_version))
    return std::nullopt;
  if (op.outcome == result::unknown)
    return model_state{op.value, s.version + 1, false};
  if (op.version <= s.version)
    return std::nullopt;
  return model_state{op.value, op.version, true};
}

std::optional<model_state> step_del(model_state s, const key_op& op, bool versions_survive) {
  switch (op.outcome) {
    case result::absent:
      return s.present() ? std::nullopt : std::optional{s};
    case result::refused:
      if (!s.present())
        return s;
      return op.if_version && exclude(s, *op.if_version) ? std::optional{s} : std::nullopt;
    default:  // ok, or unknown taking effect
      if (!s.present() || !condition_holds(s, op.if_version))
        return std::nullopt;
      return model_state{no_value, versions_survive ? s.version : 0, false};
  }
}

/// The state after `op`, or nothing if `op` cannot come next.
std::optional<model_state> step(const model_state& s, const key_op& op, bool versions_survive) {
  switch (op.op) {
    case kind::get:
      return step_get(s, op);
    case kind::put:
      return step_put(s, op);
    default:
      return step_del(s, op, versions_survive);
  }
}

/// Whether every continuation accepted from `y` is accepted from `x` too (each step keeps
/// the order). An unknown version with a lower bound can become any version the bound
/// allows, and a lower bound or floor is the more permissive the lower it is.
bool dominates(const model_state& x, const model_state& y) {
  if (x.value != y.value)
    return false;
  if (x.present() && x.exact)
    return y.exact && x.version == y.version;
  return x.version <= y.version;
}

// -- validation and partitioning -----------------------------------------------------------

[[noreturn]] void reject_operation(std::size_t index, const char* why) {
  throw std::invalid_argument("operation #" + std::to_string(index) + ": " + why);
}

void validate(const kv_operation& op, std::size_t index) {
  if (op.outcome != result::unknown && op.return_ns < op.invoke_ns)
    reject_operation(index, "returned before it was invoked");
  switch (op.op) {
    case kind::get:
      if (op.if_version)
        reject_operation(index, "a get has no condition");
      if (op.outcome == result::refused)
        reject_operation(index, "a get cannot be refused");
      break;
    case kind::put:
      if (op.outcome == result::absent)
        reject_operation(index, "a put cannot answer absent");
      if (op.outcome == result::refused && !op.if_version)
        reject_operation(index, "a put without a condition cannot be refused");
      break;
    case kind::del:
      if (op.if_version == std::uint64_t{0})
        reject_operation(index, "a delete cannot be conditional on version 0");
      break;
  }
}

/// The operations of one key.
struct partition {
  std::string key;
  std::vector<key_op> ops;
  /// Interned values, by id.
  std::vector<std::string> values;
};

key_op to_key_op(const kv_operation& op, std::size_t index,
                 const std::map<std::string, value_id>& ids) {
  key_op out;
  out.index = index;
  out.op = op.op;
  out.outcome = op.outcome;
  out.if_version = op.if_version;
  out.version = op.version;
  out.invoke = op.invoke_ns;
  out.ret = op.outcome == result::unknown ? never_returned : op.return_ns;
  if (op.op == kind::put)
    out.value = ids.at(op.value);
  if (op.op == kind::get && op.outcome == result::ok) {
    auto it = ids.find(op.read_value);
    out.value = it == ids.end() ? unwritten_value : it->second;
  }
  return out;
}

/// Builds one key's partition from the indices of its operations.
partition make_partition(const std::vector<kv_operation>& history, std::string key,
                         const std::vector<std::size_t>& indices) {
  partition p;
  p.key = std::move(key);
  std::map<std::string, value_id> ids;
  for (auto i : indices)
    if (history[i].op == kind::put &&
        ids.emplace(history[i].value, value_id(p.values.size())).second)
      p.values.push_back(history[i].value);
  for (auto i : indices) {
    // A get whose answer was lost says nothing about the key.
    if (history[i].op == kind::get && history[i].outcome == result::unknown)
      continue;
    p.ops.push_back(to_key_op(history[i], i, ids));
  }
  return p;
}

/// Validates the history and splits it by key, smallest partitions first so that a cheap
/// rejection is found before an expensive search.
std::vector<partition> partition_by_key(const std::vector<kv_operation>& history) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) {
    validate(history[i], i);
    by_key[history[i].key].push_back(i);
  }
  std::vector<partition> out;
  for (auto& [key, indices] : by_key)
    out.push_back(make_partition(history, key, indices));
  std::stable_sort(out.begin(), out.end(), [](const partition& x, const partition& y) {
    return x.ops.size() < y.ops.size();
  });
  return out;
}

// -- the search ------------------------------------------------------------------------------

/// Calls and returns by time in a doubly linked list (circular, with a sentinel) from which
/// an operation's call and return are lifted when it is linearized and put back, in reverse
/// order, when the search backtracks. Unknown outcomes have no return entry.
class event_list {
 public:
  explicit event_list(const std::vector<key_op>& ops) {
    struct event {
      std::int64_t time;
      bool is_return;
      int op;
    };
    std::vector<event> events;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      events.push_back({ops[i].invoke, false, int(i)});
      if (ops[i].known())
        events.push_back({ops[i].ret, true, int(i)});
    }
    // Calls before returns at the same instant: touching operations count as concurrent.
    std::sort(events.begin(), events.end(), [](const event& x, const event& y) {
      return std::tie(x.time, x.is_return, x.op) < std::tie(y.time, y.is_return, y.op);
    });
    head_ = int(events.size());
    entries_.resize(events.size() + 1);
    std::vector<int> call_of(ops.size(), -1);
    for (int k = 0; k < head_; ++k) {
      entries_[k] = {events[k].op, !events[k].is_return, -1, k == 0 ? head_ : k - 1, k + 1};
      if (events[k].is_return)
        entries_[call_of[events[k].op]].match = k;
      else
        call_of[events[k].op] = k;
    }
    entries_[head_].next = head_ == 0 ? head_ : 0;
    entries_[head_].prev = head_ == 0 ? head_ : head_ - 1;
  }

  int first() const { return entries_[head_].next; }
  int next(int e) const { return entries_[e].next; }
  bool at_end(int e) const { return e == head_; }
  bool is_call(int e) const { return entries_[e].call; }
  int op(int e) const { return entries_[e].op; }

  /// Removes a call and its return.
  void lift(int call) {
    unlink(call);
    if (entries_[call].match >= 0)
      unlink(entries_[call].match);
  }

  /// Undoes `lift(call)`; must be called in reverse order of the lifts.
  void unlift(int call) {
    if (entries_[call].match >= 0)
      relink(entries_[call].match);
    relink(call);
  }

 private:
  struct entry {
    int op = -1;
    bool call = false;
    /// For a call: its return entry, -1 if it has none.
    int match = -1;
    int prev = -1;
    int next = -1;
  };

  void unlink(int e) {
    entries_[entries_[e].prev].next = entries_[e].next;
    entries_[entries_[e].next].prev = entries_[e].prev;
  }

  void relink(int e) {
    entries_[entries_[e].prev].next = e;
    entries_[entries_[e].next].prev = e;
  }

  std::vector<entry> entries_;
  int head_ = 0;
};

/// The shadow of a configuration where there is none.
constexpr model_state no_shadow{-3, 0, false};

/// A visited configuration: which operations are linearized, the state they leave and the
/// shadow state (see `searcher`), on which the search prunes: what may come next depends on
/// all three.
struct memo_entry {
  std::vector<std::uint64_t> linearized;
  model_state state;
  model_state shadow;

  friend bool operator==(const memo_entry& x, const memo_entry& y) {
    return x.state == y.state && x.shadow == y.shadow && x.linearized == y.linearized;
  }
};

/// SplitMix64's finalizer: cheap, and mixes every input bit into every output bit.
std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_state(const model_state& s) {
  return mix(s.version ^ (std::uint64_t(std::uint32_t(s.value)) << 1) ^ std::uint64_t(s.exact));
}

struct memo_hash {
  std::size_t operator()(const memo_entry& m) const {
    auto h = hash_state(m.state) ^ (hash_state(m.shadow) << 1);
    for (auto word : m.linearized)
      h = mix(h ^ word);
    return std::size_t(h);
  }
};

enum class verdict { linearizable, not_linearizable, timed_out };

/// The longest order the search built, to explain a rejection.
struct search_trace {
  /// Positions in the partition's operations, in linearization order.
  std::vector<std::size_t> order;
  model_state state;
};

/// Searches for a linearization of one key's operations. When `trace` is set it receives the
/// longest partial linearization seen.
///
/// Unknown outcomes are optional, so a failing search would try every subset of them again
/// after each backtrack. To avoid that it carries a shadow: the state the key would be in had
/// the last unknown-outcome operation been left out, stepped along with every operation
/// after it (and dropped when it cannot take a step, say when a read observes that
/// operation). Once the shadow is at least as permissive as the real state, that operation
/// served no purpose: the same order without it works as well, so the search prunes. A
/// linearization with the fewest unknown outcomes never prunes, so none is lost.
class searcher {
 public:
  searcher(const std::vector<key_op>& ops, bool versions_survive, clock_type::time_point deadline,
           search_trace* trace)
      : ops_(ops),
        versions_survive_(versions_survive),
        deadline_(deadline),
        trace_(trace),
        events_(ops),
        linearized_((ops.size() + 63) / 64) {
    remaining_ =
      std::size_t(std::count_if(ops.begin(), ops.end(), [](auto& op) { return op.known(); }));
  }

  verdict run() {
    auto e = events_.first();
    std::uint64_t steps = 0;
    while (remaining_ > 0) {
      // Reading the clock every step would cost more than the step.
      if ((++steps & 0xfff) == 0 && clock_type::now() >= deadline_)
        return verdict::timed_out;
      if (!events_.at_end(e) && events_.is_call(e)) {
        e = try_linearize(e) ? events_.first() : events_.next(e);
        continue;
      }
      // A return whose operation is not linearized yet: the last choice was wrong.
      if (stack_.empty())
        return verdict::not_linearizable;
      e = backtrack();
    }
    return verdict::linearizable;
  }

 private:
  struct frame {
    int call;
    model_state before;
    model_state shadow_before;
  };

  /// Linearizes the operation of call entry `e` next if the model allows it and the
  /// resulting configuration is new.
  bool try_linearize(int e) {
    auto op = std::size_t(events_.op(e));
    auto after = step(state_, ops_[op], versions_survive_);
    if (!after)
      return false;
    auto shadow = next_shadow(ops_[op], *after);
    if (!shadow)
      return false;
    flip(op);
    if (!seen_.insert({linearized_, *after, *shadow}).second) {
      flip(op);
      return false;
    }
    stack_.push_back({e, state_, shadow_});
    state_ = *after;
    shadow_ = *shadow;
    events_.lift(e);
    if (ops_[op].known())
      --remaining_;
    record();
    return true;
  }

  /// The shadow after linearizing `op` (which leaves `after`), or nothing if `op` shows that
  /// the unknown-outcome operation the shadow leaves out was pointless.
  std::optional<model_state> next_shadow(const key_op& op, const model_state& after) const {
    auto shadow = no_shadow;
    if (!(shadow_ == no_shadow)) {
      auto without = step(shadow_, op, versions_survive_);
      if (without && dominates(*without, after))
        return std::nullopt;
      if (without)
        shadow = *without;
    }
    // The most recent unknown outcome is the one worth shadowing: it is the likeliest to be
    // overwritten before anything observes it.
    if (!op.known())
      shadow = state_;
    return shadow;
  }

  /// Undoes the last linearization; returns the entry to try after it.
  int backtrack() {
    auto top = stack_.back();
    stack_.pop_back();
    auto op = std::size_t(events_.op(top.call));
    state_ = top.before;
    shadow_ = top.shadow_before;
    events_.unlift(top.call);
    flip(op);
    if (ops_[op].known())
      ++remaining_;
    return events_.next(top.call);
  }

  void flip(std::size_t op) { linearized_[op / 64] ^= std::uint64_t{1} << (op % 64); }

  void record() {
    if (trace_ == nullptr || stack_.size() <= trace_->order.size())
      return;
    trace_->order.clear();
    for (auto& f : stack_)
      trace_->order.push_back(std::size_t(events_.op(f.call)));
    trace_->state = state_;
  }

  const std::vector<key_op>& ops_;
  bool versions_survive_;
  clock_type::time_point deadline_;
  search_trace* trace_;
  event_list events_;
  std::vector<std::uint64_t> linearized_;
  std::unordered_set<memo_entry, memo_hash> seen_;
  std::vector<frame> stack_;
  model_state state_;
  model_state shadow_ = no_shadow;
  std::size_t remaining_ = 0;
};

verdict search(const std::vector<key_op>& ops, bool versions_survive,
               clock_type::time_point deadline, search_trace* trace = nullptr) {
  return searcher{ops, versions_survive, deadline, trace}.run();
}

// -- explaining a rejection ----------------------------------------------------------------

/// The history as it stood at instant `t`: operations invoked later are dropped, and those
/// still pending become writes of unknown outcome (a pending get says nothing). If this is
/// not linearizable, neither is any history that extends it.
std::vector<key_op> truncate(const std::vector<key_op>& ops, std::int64_t t) {
  std::vector<key_op> out;
  for (auto op : ops) {
    if (op.invoke > t)
      continue;
    if (op.ret > t) {
      if (op.op == kind::get)
        continue;
      op.outcome = result::unknown;
      op.ret = never_returned;
    }
    out.push_back(op);
  }
  return out;
}

/// The earliest return time by which the key's history is already impossible (failure is
/// monotonic in the cut, so bisect), or nothing if the budget ran out first.
std::optional<std::int64_t> earliest_failure(const std::vector<key_op>& ops, bool versions_survive,
                                             clock_type::time_point deadline) {
  std::vector<std::int64_t> cuts;
  for (auto& op : ops)
    if (op.known())
      cuts.push_back(op.ret);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  if (cuts.empty())
    return std::nullopt;  // cannot happen: without known outcomes every order works
  std::size_t lo = 0;
  std::size_t hi = cuts.size() - 1;  // the whole history fails
  while (lo < hi) {
    auto mid = lo + (hi - lo) / 2;
    auto v = search(truncate(ops, cuts[mid]), versions_survive, deadline);
    if (v == verdict::timed_out)
      return std::nullopt;
    if (v == verdict::not_linearizable)
      hi = mid;
    else
      lo = mid + 1;
  }
  return cuts[lo];
}

std::string quoted(const std::string& text);

std::string describe(const model_state& s, const partition& p) {
  if (!s.present())
    return "absent";
  auto out = "present, value " + quoted(p.values[std::size_t(s.value)]) + ", version ";
  return out + (s.exact ? "" : "at least ") + std::to_string(s.version);
}

void list_ops(std::ostringstream& out, const std::vector<kv_operation>& history,
              const std::vector<std::size_t>& indices) {
  for (auto i : indices)
    out << "  #" << i << ' ' << format_operation(history[i]) << '\n';
}

/// Keeps the last `n` entries, so that long prefixes stay readable.
std::vector<std::size_t> last(std::vector<std::size_t> v, std::size_t n) {
  if (v.size() > n)
    v.erase(v.begin(), v.end() - std::ptrdiff_t(n));
  return v;
}

check_result reject(const partition& p, std::string explanation) {
  check_result r;
  r.key = p.key;
  r.explanation = std::move(explanation);
  return r;
}

/// A get that read a value no put of its key wrote needs no search to reject.
std::optional<check_result> unwritten_read(const partition& p,
                                           const std::vector<kv_operation>& history) {
  for (auto& op : p.ops) {
    if (op.op != kind::get || op.value != unwritten_value)
      continue;
    std::ostringstream out;
    out << "key " << quoted(p.key) << " is not linearizable: #" << op.index
        << " read a value that no put of the key wrote:\n";
    list_ops(out, history, {op.index});
    auto r = reject(p, out.str());
    r.window = {op.index};
    return r;
  }
  return std::nullopt;
}

/// Narrows a rejected key down to the earliest instant its history is impossible, and the
/// operations that cannot be ordered at that point.
check_result explain(const partition& p, const std::vector<kv_operation>& history,
                     const check_options& options) {
  std::ostringstream out;
  out << "key " << quoted(p.key) << " is not linearizable";
  auto deadline = clock_type::now() + options.budget;
  auto cut = earliest_failure(p.ops, options.versions_survive_deletes, deadline);
  if (!cut)
    return reject(p, out.str() + " (the budget ran out before the window was narrowed)\n");
  auto ops = truncate(p.ops, *cut);
  search_trace trace;
  if (search(ops, options.versions_survive_deletes, deadline, &trace) != verdict::not_linearizable)
    return reject(p, out.str() + " (the budget ran out before the window was narrowed)\n");
  std::vector<bool> placed(ops.size());
  std::vector<std::size_t> prefix;
  for (auto k : trace.order) {
    placed[k] = true;
    prefix.push_back(ops[k].index);
  }
  auto r = reject(p, "");
  for (std::size_t k = 0; k < ops.size(); ++k)
    if (!placed[k])
      r.window.push_back(ops[k].index);
  std::stable_sort(r.window.begin(), r.window.end(),
                   [&](auto x, auto y) { return history[x].invoke_ns < history[y].invoke_ns; });
  out << ": it is already impossible when the operations returning at t=" << *cut
      << " return.\nThe longest order found for the " << ops.size()
      << " operations up to then places " << prefix.size() << " and leaves the key "
      << describe(trace.state, p) << (prefix.size() > 8 ? "; it ends with:\n" : ":\n");
  list_ops(out, history, last(prefix, 8));
  out << "None of these can come next:\n";
  list_ops(out, history, r.window);
  r.explanation = out.str();
  return r;
}

// -- the text format -----------------------------------------------------------------------

bool needs_escape(char c) {
  auto b = static_cast<unsigned char>(c);
  return b <= 0x20 || b >= 0x7f || c == '%' || c == '"';
}

std::string encode(const std::string& text) {
  if (text.empty())
    return "\"\"";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (!needs_escape(c)) {
      out += c;
      continue;
    }
    auto b = static_cast<unsigned char>(c);
    out += '%';
    out += hex[b >> 4];
    out += hex[b & 0xf];
  }
  return out;
}

std::string quoted(const std::string& text) {
  return '"' + encode(text) + '"';
}

const char* name(kind k) {
  switch (k) {
    case kind::put:
      return "put";
    case kind::get:
      return "get";
    default:
      return "del";
  }
}

const char* name(result r) {
  switch (r) {
    case result::ok:
      return "ok";
    case result::refused:
      return "refused";
    case result::absent:
      return "absent";
    default:
      return "unknown";
  }
}

/// The space-separated words of one line, consumed front to back.
class line_reader {
 public:
  explicit line_reader(const std::string& line) {
    std::istringstream in{line};
    for (std::string word; in >> word;)
      words_.push_back(word);
  }

  bool done() const { return next_ == words_.size(); }
  const std::string& peek() const { return done() ? empty_ : words_[next_]; }

  const std::string& word(const char* what) {
    if (done())
      throw std::invalid_argument(std::string{"missing "} + what);
    return words_[next_++];
  }

  template <class Int>
  Int number(const char* what) {
    return parse<Int>(word(what), what);
  }

  std::string text(const char* what) { return decode(word(what), what); }

  template <class Int>
  static Int parse(std::string_view word, const char* what) {
    Int out{};
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
    if (ec != std::errc{} || end != word.data() + word.size())
      throw std::invalid_argument(std::string{"bad "} + what + " '" + std::string{word} + "'");
    return out;
  }

 private:
  static std::string decode(const std::string& word, const char* what) {
    if (word == "\"\"")
      return {};
    std::string out;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (word[i] == '"' || (word[i] == '%' && i + 2 >= word.size()))
        throw std::invalid_argument(std::string{"bad encoding of "} + what);
      if (word[i] != '%') {
        out += word[i];
        continue;
      }
      out += char(hex_byte(word[i + 1], word[i + 2], what));
      i += 2;
    }
    return out;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  }

  static int hex_byte(char high, char low, const char* what) {
    auto h = hex_digit(high);
    auto l = hex_digit(low);
    if (h < 0 || l < 0)
      throw std::invalid_argument(std::string{"bad encoding of "} + what);
    return h * 16 + l;
  }

  std::vector<std::string> words_;
  std::size_t next_ = 0;
  std::string empty_;
};

kind parse_kind(const std::string& word) {
  for (auto k : {kind::put, kind::get, kind::del})
    if (word == name(k))
      return k;
  throw std::invalid_argument("bad operation '" + word + "'");
}

result parse_result(const std::string& word) {
  for (auto r : {result::ok, result::refused, result::absent, result::unknown})
    if (word == name(r))
      return r;
  throw std::invalid_argument("bad outcome '" + word + "'");
}

/// The part after "->": the outcome and what came back with it.
void parse_outcome(line_reader& in, kv_operation& op) {
  if (in.word("'->'") != "->")
    throw std::invalid_argument("expected '->'");
  op.outcome = parse_result(in.word("outcome"));
  if (op.outcome == result::ok && op.op == kind::get)
    op.read_value = in.text("value read");
  if (op.outcome == result::ok && op.op != kind::del)
    op.version = in.number<std::uint64_t>("version");
}

kv_operation parse_operation(const std::string& line) {
  line_reader in{line};
  kv_operation op;
  op.client = in.number<std::uint64_t>("client");
  op.invoke_ns = in.number<std::int64_t>("invoke time");
  auto ret = in.word("return time");
  op.op = parse_kind(in.word("operation"));
  op.key = in.text("key");
  if (op.op == kind::put)
    op.value = in.text("value");
  if (in.peek().rfind("if=", 0) == 0)
    op.if_version = line_reader::parse<std::uint64_t>(in.word("condition").substr(3), "condition");
  parse_outcome(in, op);
  if (!in.done())
    throw std::invalid_argument("unexpected '" + in.peek() + "'");
  if ((ret == "inf") != (op.outcome == result::unknown))
    throw std::invalid_argument("the return time is 'inf' exactly when the outcome is unknown");
  if (ret != "inf")
    op.return_ns = line_reader::parse<std::int64_t>(ret, "return time");
  return op;
}

check_result out_of_budget(const partition& p) {
  auto unknown = std::count_if(p.ops.begin(), p.ops.end(), [](auto& op) { return !op.known(); });
  check_result r;
  r.timed_out = true;
  r.key = p.key;
  r.explanation = "the budget ran out while checking key " + quoted(p.key) + " (" +
                  std::to_string(p.ops.size()) + " operations, " + std::to_string(unknown) +
                  " with unknown outcomes): nothing was proven\n";
  return r;
}

}  // namespace

check_result check_kv_history(const std::vector<kv_operation>& history,
                              std::chrono::milliseconds budget) {
  check_options options;
  options.budget = budget;
  return check_kv_history(history, options);
}

check_result check_kv_history(const std::vector<kv_operation>& history,
                              const check_options& options) {
  auto partitions = partition_by_key(history);
  for (auto& p : partitions)
    if (auto r = unwritten_read(p, history))
      return *r;
  auto deadline = clock_type::now() + options.budget;
  for (auto& p : partitions) {
    // Checked before each key too: a key's search only reads the clock every few thousand
    // steps, and a small key may never get that far.
    auto v = clock_type::now() >= deadline
               ? verdict::timed_out
               : search(p.ops, options.versions_survive_deletes, deadline);
    if (v == verdict::not_linearizable)
      return explain(p, history, options);
    if (v == verdict::timed_out)
      return out_of_budget(p);
  }
  check_result r;
  r.linearizable = true;
  return r;
}

std::string format_operation(const kv_operation& op) {
  std::ostringstream out;
  out << op.client << ' ' << op.invoke_ns << ' ';
  if (op.outcome == result::unknown)
    out << "inf";
  else
    out << op.return_ns;
  out << ' ' << name(op.op) << ' ' << encode(op.key);
  if (op.op == kind::put)
    out << ' ' << encode(op.value);
  if (op.if_version)
    out << " if=" << *op.if_version;
  out << " -> " << name(op.outcome);
  if (op.outcome == result::ok && op.op == kind::get)
    out << ' ' << encode(op.read_value);
  if (op.outcome == result::ok && op.op != kind::del)
    out << ' ' << op.version;
  return out.str();
}

void write_history(std::ostream& out, const std::vector<kv_operation>& history) {
  out << "# ballot kv history: client invoke_ns return_ns|inf op key [value] [if=version] "
         "-> outcome\n";
  for (auto& op : history)
    out << format_operation(op) << '\n';
}

std::vector<kv_operation> read_history(std::istream& in) {
  std::vector<kv_operation> out;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#')
      continue;
    try {
      out.push_back(parse_operation(line));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("history line " + std::to_string(number) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace ballot::testing
