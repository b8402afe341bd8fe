#include "actors/kv/key_space.hpp"

#include "actors/kv/event_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace ballot::kv {

key_space::key_space(std::size_t history_events, std::size_t history_bytes)
    : history_(std::make_shared<event_history>(history_events, history_bytes)) {}

key_space::key_space(const key_space& other)
    : keys_(other.keys_),
      by_session_(other.by_session_),
      history_(std::make_shared<event_history>(*other.history_)),
      data_size_(other.data_size_),
      revision_(other.revision_) {}

key_space& key_space::operator=(const key_space& other) {
  if (this != &other)
    *this = key_space{other};
  return *this;
}

std::uint64_t key_space::put(const std::string& key, const std::string& value, owner_id session) {
  auto [it, fresh] = keys_.try_emplace(key);
  auto& e = it->second;
  data_size_ += fresh ? key.size() : 0;
  data_size_ = data_size_ - e.value().size() + value.size();
  if (e.session != 0 && e.session != session) {
    auto it = by_session_.find(e.session);
    it->second.erase(key);
    if (it->second.empty())
      by_session_.erase(it);
  }
  if (session != 0)
    by_session_[session].insert(key);
  // A new value, never the old one changed: copies of this key space
  // (frozen snapshots) may still hold the old one.
  e.data = shared_value{value};
  e.session = session;
  e.version = ++revision_;
  record(revision_, event_type::put, key, e.data);
  return revision_;
}

std::optional<std::uint64_t> key_space::del(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end())
    return std::nullopt;
  if (auto s = it->second.session; s != 0) {
    auto owned = by_session_.find(s);
    owned->second.erase(key);
    if (owned->second.empty())
      by_session_.erase(owned);
  }
  data_size_ -= key.size() + it->second.value().size();
  keys_.erase(it);
  ++revision_;
  record(revision_, event_type::del, key, shared_value{});
  return revision_;
}

void key_space::drop_session(owner_id session) {
  auto owned = by_session_.find(session);
  if (owned == by_session_.end())
    return;
  auto names = std::move(owned->second);
  by_session_.erase(owned);
  for (auto& key : names) {
    if (auto it = keys_.find(key); it != keys_.end()) {
      data_size_ -= key.size() + it->second.value().size();
      keys_.erase(it);
    }
    ++revision_;
    record(revision_, event_type::del, key, shared_value{});
  }
}

bool key_space::events_since(const std::string& prefix, std::uint64_t revision,
                             std::vector<event>& out) const {
  std::uint64_t upto = 0;
  return events_since(prefix, revision, SIZE_MAX, out, upto);
}

bool key_space::events_since(const std::string& prefix, std::uint64_t revision,
                             std::size_t max_bytes, std::vector<event>& out,
                             std::uint64_t& upto) const {
  return history_->events_since(prefix, true, revision, max_bytes, out, upto);
}

bool key_space::events_since(std::uint64_t revision, std::vector<shared_event>& out) const {
  return history_->events_since(revision, out);
}

const key_space::entry* key_space::find(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second;
}

std::set<owner_id> key_space::sessions() const {
  std::set<owner_id> out;
  for (auto& [id, names] : by_session_)
    out.insert(id);
  return out;
}

void key_space::record(std::uint64_t revision, event_type type, const std::string& key,
                       shared_value value) {
  history_->append(shared_event{revision, type, key, std::move(value)});
}

void key_space::save(detail::writer& w) const {
  w.integer(revision_);
  w.integer(history_->compacted());
  w.integer(static_cast<std::uint64_t>(history_->max_events()));
  w.integer(static_cast<std::uint64_t>(history_->max_bytes()));
  w.integer(static_cast<std::uint64_t>(keys_.size()));
  for (auto& [key, e] : keys_) {
    w.string(key);
    w.string(e.value());
    w.integer(e.version);
    w.integer(e.session);
  }
  w.integer(static_cast<std::uint64_t>(history_->size()));
  // As detail::put_event writes an event.
  history_->for_each([&](const shared_event& e) {
    w.integer(e.revision);
    w.integer(static_cast<std::uint8_t>(e.type));
    w.string(e.key);
    w.string(e.value.view());
  });
}

std::size_t key_space::saved_size() const {
  constexpr std::size_t head = 5 * 8;             // revision .. count
  constexpr std::size_t per_key = 4 + 4 + 8 + 8;  // two lengths, version, session
  constexpr std::size_t events = 8;
  // `data_size_` and the history's bytes are the key and value bytes of each.
  return head + keys_.size() * per_key + static_cast<std::size_t>(data_size_) + events +
         history_->size() * detail::min_event_bytes + history_->bytes();
}

bool key_space::load(detail::reader& r) {
  std::uint64_t limit = 0;
  std::uint64_t bytes = 0;
  std::uint64_t count = 0;
  std::uint64_t compacted = 0;
  bool ok = r.integer(revision_, "revision") && r.integer(compacted, "compacted") &&
            r.integer(limit, "history limit") && r.integer(bytes, "history bytes") &&
            r.count(count, 24, "key count");
  if (ok && (limit == 0 || compacted > revision_))
    ok = r.fail("history limit", "invalid history bounds");
  if (ok) {
    history_->reset(compacted, static_cast<std::size_t>(limit), static_cast<std::size_t>(bytes));
  }
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    std::string key;
    std::string_view value;
    entry e;
    ok = r.string(key, "key") && r.string(value, "value") && r.integer(e.version, "key version") &&
         r.integer(e.session, "key session");
    e.data = shared_value{value};
    if (ok && (key.empty() || (!keys_.empty() && !(keys_.rbegin()->first < key))))
      ok = r.fail("key", "empty or not in strictly increasing order");
    if (ok && (e.version == 0 || e.version > revision_))
      ok = r.fail("key version", "version " + std::to_string(e.version) + " from the future");
    if (!ok)
      break;
    if (e.session != 0)
      by_session_[e.session].insert(key);
    data_size_ += key.size() + e.value().size();
    keys_.emplace_hint(keys_.end(), std::move(key), std::move(e));
  }
  ok = ok && r.integer(count, "event count");
  // The history is exactly the events after `compacted`, one per revision.
  if (ok && (count != revision_ - compacted || count > limit))
    ok = r.fail("event count", std::to_string(count) + " events do not cover revisions " +
                                 std::to_string(compacted + 1) + ".." + std::to_string(revision_));
  for (std::uint64_t i = 0; ok && i < count; ++i) {
    event e;
    ok = detail::read_event(r, e);
    if (ok && e.revision != compacted + 1 + i)
      ok = r.fail("event revision", "gap in the history");
    if (!ok)
      break;
    // The latest put of a live key shares the key's value, as it did
    // before the snapshot was taken.
    shared_value value;
    auto it = e.type == event_type::put ? keys_.find(e.key) : keys_.end();
    if (it != keys_.end() && it->second.version == e.revision && it->second.value() == e.value)
      value = it->second.data;
    else
      value = shared_value{e.value};
    history_->restore_push(shared_event{e.revision, e.type, std::move(e.key), std::move(value)});
  }
  return ok;
}

}  // namespace ballot::kv
