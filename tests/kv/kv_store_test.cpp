// The key/value state machine: etcd-style versions, conditional writes,
// prefix listings, and deterministic error results for bad payloads.

#include "actors/kv/kv_store.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "actors/kv/command_codec.hpp"

namespace {

using namespace ballot::kv;

/// Applies `req` through the encoded payload path, as a replica does.
result run(kv_store& store, const request& req) {
  result r;
  std::string error;
  EXPECT_TRUE(decode(store.apply(encode(req)), r, error)) << error;
  return r;
}

result query(const kv_store& store, const request& req) {
  result r;
  std::string error;
  EXPECT_TRUE(decode(store.query(encode(req)), r, error)) << error;
  return r;
}

TEST(KvStoreTest, PutThenGetReturnsValueAndVersion) {
  kv_store store;
  auto put = run(store, put_request{"a", "1", std::nullopt});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put.version, 1u);
  auto get = query(store, get_request{"a"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value, "1");
  EXPECT_EQ(get.version, 1u);
  EXPECT_EQ(query(store, get_request{"b"}).code, result_code::not_found);
}

TEST(KvStoreTest, VersionsStrictlyIncreasePerKeyAcrossDeleteAndRecreate) {
  kv_store store;
  std::uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    auto put = run(store, put_request{"k", "v", std::nullopt});
    EXPECT_GT(put.version, last);
    last = put.version;
    run(store, put_request{"other", "x", std::nullopt});
    ASSERT_TRUE(run(store, del_request{"k", std::nullopt}).ok());
  }
  EXPECT_EQ(store.revision(), 9u);  // every put and delete is one revision
}

TEST(KvStoreTest, IfVersionZeroCreatesOnly) {
  kv_store store;
  EXPECT_TRUE(run(store, put_request{"k", "first", 0}).ok());
  auto again = run(store, put_request{"k", "second", 0});
  EXPECT_EQ(again.code, result_code::version_mismatch);
  EXPECT_EQ(again.version, 1u);  // the current version, so the caller can retry a CAS
  EXPECT_EQ(query(store, get_request{"k"}).value, "first");
}

TEST(KvStoreTest, CompareAndSetSucceedsOnlyAtTheCurrentVersion) {
  kv_store store;
  auto v1 = run(store, put_request{"k", "a", std::nullopt}).version;
  auto v2 = run(store, put_request{"k", "b", v1});
  ASSERT_TRUE(v2.ok());
  auto stale = run(store, put_request{"k", "c", v1});
  EXPECT_EQ(stale.code, result_code::version_mismatch);
  EXPECT_EQ(stale.version, v2.version);
  EXPECT_EQ(run(store, put_request{"absent", "x", 5}).code, result_code::version_mismatch);
  EXPECT_EQ(store.revision(), 2u);  // refusals change nothing
}

TEST(KvStoreTest, DeleteIsConditionalToo) {
  kv_store store;
  auto v = run(store, put_request{"k", "a", std::nullopt}).version;
  EXPECT_EQ(run(store, del_request{"k", v + 1}).code, result_code::version_mismatch);
  EXPECT_TRUE(run(store, del_request{"k", v}).ok());
  EXPECT_EQ(run(store, del_request{"k", std::nullopt}).code, result_code::not_found);
  EXPECT_EQ(run(store, del_request{"k", 3}).code, result_code::version_mismatch);
}

TEST(KvStoreTest, ListReturnsKeysUnderPrefixInOrder) {
  kv_store store;
  for (auto key : {"b/2", "a", "b/1", "b/3", "ba", "c"})
    run(store, put_request{key, "v", std::nullopt});
  auto all = query(store, list_request{"b/", 0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all.entries.size(), 3u);
  EXPECT_EQ(all.entries[0], (key_version{"b/1", 3}));
  EXPECT_EQ(all.entries[1], (key_version{"b/2", 1}));
  EXPECT_EQ(all.entries[2], (key_version{"b/3", 4}));
  EXPECT_FALSE(all.truncated);
  auto capped = query(store, list_request{"b", 2});
  EXPECT_EQ(capped.entries.size(), 2u);
  EXPECT_TRUE(capped.truncated);
  EXPECT_EQ(query(store, list_request{"", 0}).entries.size(), 6u);
  EXPECT_TRUE(query(store, list_request{"zzz", 0}).entries.empty());
}

TEST(KvStoreTest, ListPagesAfterAKeyWithValuesAndByteBound) {
  kv_store store;
  for (auto key : {"a", "b/1", "b/2", "b/3", "b/4", "c"})
    run(store, put_request{key, std::string("val-") + key, std::nullopt});
  // Pages of two, each starting after the last key of the one before.
  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    list_request req{"b/", 2, after, false, 0};
    auto page = query(store, req);
    ASSERT_TRUE(page.ok());
    for (auto& e : page.entries) {
      seen.push_back(e.key);
      EXPECT_TRUE(e.value.empty());
    }
    if (!page.truncated)
      break;
    after = page.entries.back().key;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"b/1", "b/2", "b/3", "b/4"}));
  // start_after before the prefix starts at the prefix; past it, nothing.
  EXPECT_EQ(query(store, list_request{"b/", 0, "a", false, 0}).entries.size(), 4u);
  EXPECT_TRUE(query(store, list_request{"b/", 0, "b/4", false, 0}).entries.empty());
  auto valued = query(store, list_request{"b/", 0, "b/2", true, 0});
  ASSERT_EQ(valued.entries.size(), 2u);
  EXPECT_EQ(valued.entries[0].value, "val-b/3");
  // Each entry is 3 + 7 bytes: a 25-byte bound fits two, never zero.
  auto bounded = query(store, list_request{"b/", 0, "", true, 25});
  EXPECT_EQ(bounded.entries.size(), 2u);
  EXPECT_TRUE(bounded.truncated);
  auto tiny = query(store, list_request{"b/", 0, "", true, 1});
  EXPECT_EQ(tiny.entries.size(), 1u);
  EXPECT_TRUE(tiny.truncated);
}

TEST(KvStoreTest, ReadsThroughTheLogWork) {
  kv_store store;
  run(store, put_request{"k", "v", std::nullopt});
  EXPECT_EQ(run(store, get_request{"k"}).value, "v");
  EXPECT_EQ(run(store, list_request{"", 0}).entries.size(), 1u);
}

TEST(KvStoreTest, QueryRefusesWrites) {
  kv_store store;
  auto r = query(store, put_request{"k", "v", std::nullopt});
  EXPECT_EQ(r.code, result_code::bad_request);
  EXPECT_EQ(store.revision(), 0u);
}

TEST(KvStoreTest, EmptyKeyIsABadRequest) {
  kv_store store;
  auto r = run(store, put_request{"", "v", std::nullopt});
  EXPECT_EQ(r.code, result_code::bad_request);
  EXPECT_NE(r.message.find("key"), std::string::npos);
}

TEST(KvStoreTest, MalformedPayloadsGiveErrorResultsAndChangeNothing) {
  kv_store store;
  run(store, put_request{"k", "v", std::nullopt});
  std::mt19937_64 rng{11};
  for (int i = 0; i < 5000; ++i) {
    std::string junk(rng() % 24, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    junk.insert(0, 1, '\x07');  // an unknown tag: never valid
    result bad;
    std::string error;
    ASSERT_TRUE(decode(store.apply(junk), bad, error)) << error;
    EXPECT_EQ(bad.code, result_code::bad_request);
    EXPECT_NE(bad.message.find("malformed request"), std::string::npos);
  }
  EXPECT_EQ(store.revision(), 1u);
  EXPECT_EQ(query(store, get_request{"k"}).value, "v");
}

TEST(KvStoreTest, SameLogGivesSameStateAndAnswers) {
  std::mt19937_64 rng{3};
  std::vector<std::string> log;
  for (int i = 0; i < 2000; ++i) {
    auto key = "k" + std::to_string(rng() % 20);
    switch (rng() % 4) {
      case 0:
        log.push_back(encode(put_request{key, std::to_string(i), std::nullopt}));
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
  kv_store a;
  kv_store b;
  for (auto& payload : log)
    EXPECT_EQ(a.apply(payload), b.apply(payload));
  EXPECT_EQ(a.revision(), b.revision());
  EXPECT_EQ(a.query(encode(list_request{"", 0})), b.query(encode(list_request{"", 0})));
}

}  // namespace
