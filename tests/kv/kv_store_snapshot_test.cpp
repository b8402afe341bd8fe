// The store's snapshot: a deterministic encoding of every item and the
// revision counter, and a restore that refuses damaged bytes.

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/kv/byte_codec.hpp"
#include "actors/kv/command_codec.hpp"
#include "actors/kv/kv_store.hpp"

namespace {

using namespace ballot::kv;

/// Random writes (some conditional, some malformed) over a few keys.
std::vector<std::string> random_log(std::uint64_t seed, int n) {
  std::mt19937_64 rng{seed};
  std::vector<std::string> log;
  for (int i = 0; i < n; ++i) {
    auto key = "k" + std::to_string(rng() % 20);
    switch (rng() % 4) {
      case 0:
        log.push_back(encode(put_request{key, std::string("v\0", 2) + std::to_string(i), {}}));
        break;
      case 1:
        log.push_back(encode(put_request{key, "cas", rng() % 30}));
        break;
      case 2:
        log.push_back(encode(del_request{key, std::nullopt}));
        break;
      default:
        log.push_back(std::string(1, static_cast<char>(rng())));
    }
  }
  return log;
}

kv_store store_after(const std::vector<std::string>& log) {
  kv_store store;
  for (auto& payload : log)
    store.apply(payload);
  return store;
}

std::string snapshot_of(const kv_store& store) {
  auto snap = store.snapshot();
  EXPECT_TRUE(snap.has_value());
  return snap.value_or("");
}

TEST(KvStoreSnapshotTest, RoundTripsItemsAndRevision) {
  auto store = store_after(random_log(1, 500));
  ASSERT_FALSE(store.items().empty());
  kv_store restored;
  restored.restore(snapshot_of(store));
  EXPECT_EQ(restored.revision(), store.revision());
  ASSERT_EQ(restored.items().size(), store.items().size());
  for (auto& [key, it] : store.items()) {
    auto found = restored.items().find(key);
    ASSERT_NE(found, restored.items().end()) << key;
    EXPECT_EQ(found->second.value(), it.value());
    EXPECT_EQ(found->second.version, it.version);
  }
  // The same state gives the same bytes, whatever history led to it.
  EXPECT_EQ(snapshot_of(restored), snapshot_of(store));
}

TEST(KvStoreSnapshotTest, EmptyStoreRoundTrips) {
  kv_store empty;
  auto store = store_after(random_log(2, 50));
  store.restore(snapshot_of(empty));
  EXPECT_TRUE(store.items().empty());
  EXPECT_EQ(store.revision(), 0u);
}

TEST(KvStoreSnapshotTest, RestoredStoreAnswersAndContinuesIdentically) {
  // Snapshot part-way through a log: the restored store and the one that
  // applied every command must give the same answers to the rest of it,
  // including the versions (revisions) of new writes and CAS outcomes.
  auto log = random_log(3, 2000);
  kv_store original;
  for (int i = 0; i < 1000; ++i)
    original.apply(log[static_cast<std::size_t>(i)]);
  kv_store restored;
  restored.apply(encode(put_request{"stale", "overwritten by the restore", {}}));
  restored.restore(snapshot_of(original));
  EXPECT_EQ(restored.query(encode(get_request{"stale"})),
            original.query(encode(get_request{"stale"})));
  for (std::size_t i = 1000; i < log.size(); ++i) {
    ASSERT_EQ(restored.apply(log[i]), original.apply(log[i])) << "command " << i;
    if (i % 100 == 0) {
      ASSERT_EQ(restored.query(encode(list_request{"", 0})),
                original.query(encode(list_request{"", 0})));
    }
  }
  EXPECT_EQ(restored.revision(), original.revision());
  EXPECT_EQ(snapshot_of(restored), snapshot_of(original));
  // A write after the restore gets the next revision, not one reused.
  auto before = original.revision();
  result r;
  std::string error;
  ASSERT_TRUE(decode(restored.apply(encode(put_request{"new", "x", {}})), r, error)) << error;
  EXPECT_EQ(r.version, before + 1);
}

TEST(KvStoreSnapshotTest, MalformedSnapshotThrowsAndChangesNothing) {
  auto store = store_after(random_log(4, 300));
  auto good = snapshot_of(store);
  kv_store target;
  target.apply(encode(put_request{"keep", "me", {}}));
  auto unchanged = snapshot_of(target);
  auto expect_refused = [&](const std::string& bytes, const std::string& needle) {
    try {
      target.restore(bytes);
      ADD_FAILURE() << "restore accepted a malformed snapshot (" << needle << ")";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string{e.what()}.find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(snapshot_of(target), unchanged);
  };
  expect_refused("", "format");
  expect_refused(std::string(1, '\x01') + good.substr(1), "format");
  // Every proper prefix is refused (nothing reads past the end).
  for (std::size_t n = 1; n < good.size(); n += 7)
    expect_refused(good.substr(0, n), "offset");
  expect_refused(good + "x", "trailing");
  auto u64 = [](std::uint64_t x) {
    std::string out;
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<char>(x >> (8 * i)));
    return out;
  };
  // format, revision, compacted (all history dropped), history limits, key count.
  auto header = [&](std::uint64_t revision, std::uint64_t count) {
    return std::string(1, '\x02') + u64(revision) + u64(revision) + u64(100) + u64(1 << 20) +
           u64(count);
  };
  // A count that cannot fit the bytes left.
  expect_refused(header(5, 1u << 30), "key count");
  // Two items whose keys are out of order, and a version above the revision.
  auto item = [&](const std::string& key, std::uint64_t version) {
    std::string out;
    auto u32 = static_cast<std::uint32_t>(key.size());
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>(u32 >> (8 * i)));
    out += key;
    out += std::string(4, '\0');  // empty value
    return out + u64(version) + u64(0);
  };
  auto no_events = u64(0);
  kv_store probe;
  probe.restore(header(5, 2) + item("a", 1) + item("b", 5) + no_events);  // well-formed
  EXPECT_EQ(probe.items().size(), 2u);
  expect_refused(header(5, 2) + item("b", 1) + item("a", 2) + no_events, "order");
  expect_refused(header(5, 2) + item("a", 1) + item("a", 2) + no_events, "order");
  expect_refused(header(5, 1) + item("a", 6) + no_events, "version");
  expect_refused(header(5, 1) + item("a", 0) + no_events, "version");
  expect_refused(header(5, 1) + item("", 1) + no_events, "empty");
  // History that does not cover the revisions after `compacted`.
  expect_refused(header(5, 0).substr(0, 9) + u64(3) + u64(100) + u64(1 << 20) + u64(0) + u64(1),
                 "event");
}

// A snapshot reserves `saved_size` bytes up front (issue 9): if it were short,
// the buffer would grow by doubling again; if long, memory would be wasted.
TEST(KvStoreSnapshotTest, SavedSizeIsExactlyWhatSaveWrites) {
  // A small history bound makes events drop, by count and by bytes.
  key_space keys{40, 1000};
  auto check = [&] {
    detail::writer w;
    keys.save(w);
    EXPECT_EQ(w.size(), keys.saved_size());
  };
  check();  // empty
  for (int i = 0; i < 200; ++i) {
    keys.put("k" + std::to_string(i % 37), std::string(static_cast<std::size_t>(i * 3), 'v'),
             static_cast<owner_id>(i % 3));
    if (i % 5 == 0)
      keys.del("k" + std::to_string(i % 11));
    if (i % 50 == 49)
      keys.drop_session(1);
    check();
  }
  EXPECT_GT(keys.compacted(), 0u);
}

}  // namespace
