// Property: for random sequences of readies, what the log replays after a
// reopen equals what `ready::persist_to` builds in memory, across segment
// rolls, checkpoints, reopens, and crashes that tear the unsynced tail at any
// byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/wal/wal_storage.hpp"
#include "temp_dir.hpp"
#include "wal_test_util.hpp"

namespace {

using namespace ballot;
using namespace ballot::wal;
using namespace ballot::wal::test;

class generator {
 public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t below(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  paxos::ballot_number ballot() {
    return {1 + below(20), static_cast<paxos::node_id>(1 + below(5))};
  }

  paxos::value value() {
    paxos::value v;
    auto n = below(4);  // 0: a no-op
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string payload(below(200), '\0');
      for (auto& c : payload)
        c = static_cast<char>(below(256));
      v.commands.push_back({below(10), below(1000), std::move(payload)});
    }
    return v;
  }

  paxos::ready ready() {
    paxos::ready rd;
    if (chance(0.3))
      rd.promised = ballot();
    for (auto n = below(5); n > 0; --n)
      rd.accepted.push_back({slot(), {ballot(), value()}});
    for (auto n = below(3); n > 0; --n)
      rd.chosen.push_back({slot(), value()});
    return rd;
  }

  /// A ready that first compacts `state` (its records apply on top), with a
  /// snapshot a little further than the last one.
  paxos::ready compaction(const paxos::durable_state& state) {
    auto rd = ready();
    paxos::snapshot snap;
    snap.last = floor_ + below(30);
    std::string machine(below(3000), '\0');
    for (auto& c : machine)
      c = static_cast<char>(below(256));
    snap.machine = std::move(machine);
    std::vector<paxos::client_record> clients;
    for (auto n = below(4); n > 0; --n) {
      paxos::client_record rec{below(10), {}, below(50), {}, 0};
      for (auto k = below(3); k > 0; --k)
        rec.results.emplace_back(below(100), std::string(below(20), 'r'));
      clients.push_back(std::move(rec));
    }
    snap.clients = std::move(clients);
    // The membership epochs travel with the snapshot (absent in old ones).
    if (below(2) == 0)
      snap.members = "E " + std::to_string(snap.last + 1) + " 5\nM 1 v a:1 b:1\nM 4 l c:1 d:1\n";
    floor_ = snap.last;
    rd.compacted = compact(state, std::move(snap));
    return rd;
  }

  /// A ready of exactly one record.
  paxos::ready single_record() {
    paxos::ready rd;
    switch (below(3)) {
      case 0:
        rd.promised = ballot();
        break;
      case 1:
        rd.accepted.push_back({slot(), {ballot(), value()}});
        break;
      default:
        rd.chosen.push_back({slot(), value()});
    }
    return rd;
  }

 private:
  /// Mostly after the last snapshot, sometimes at or below it (which the log
  /// then ignores).
  paxos::slot_index slot() { return floor_ + 1 + below(60) - std::min<std::uint64_t>(floor_, 5); }

  std::mt19937_64 rng_;
  paxos::slot_index floor_ = 0;  ///< the last snapshot's slot
};

TEST(WalPropertyTest, ReplayEqualsPersistToAcrossRollsAndReopens) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    generator gen{seed};
    temp_dir dir;
    const std::uint64_t sizes[] = {256, 2048, 64 << 10};
    auto segment_size = sizes[gen.below(3)];
    paxos::durable_state expected;
    auto st = std::make_unique<wal_storage>(options(dir, segment_size));
    ASSERT_TRUE(same_state(st->load(), expected));
    for (int step = 0; step < 200; ++step) {
      auto rd = gen.chance(0.05) ? gen.compaction(expected) : gen.ready();
      rd.persist_to(expected);
      expected = without_covered(std::move(expected));
      st->append(rd);
      if (gen.chance(0.3))
        st->sync();
      if (gen.chance(0.03)) {
        st->sync();
        st.reset();
        st = std::make_unique<wal_storage>(options(dir, segment_size));
        ASSERT_TRUE(same_state(st->load(), expected)) << "step " << step;
        ASSERT_FALSE(st->last_recovery().truncated());
      }
    }
    st->sync();
    st.reset();
    wal_storage reopened{options(dir, segment_size)};
    ASSERT_TRUE(same_state(reopened.load(), expected));
  }
}

TEST(WalPropertyTest, CrashKeepsTheSyncedStateAndAPrefixOfTheRest) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    generator gen{seed};
    temp_dir dir;
    paxos::durable_state synced;
    {
      wal_storage st{options(dir, 1 << 20)};
      st.load();
      for (auto n = gen.below(30); n > 0; --n) {
        // Sometimes a checkpoint: the torn tail then tears the segment after it.
        auto rd = gen.chance(0.1) ? gen.compaction(synced) : gen.ready();
        rd.persist_to(synced);
        synced = without_covered(std::move(synced));
        st.append(rd);
      }
      st.sync();
    }
    // Records appended after the last sync, one per ready, with the state
    // after each; then a "crash" keeps an arbitrary prefix of their bytes.
    auto files = std::vector<std::string>{};
    std::uint64_t synced_records = 0;
    std::uint64_t synced_size = 0;
    std::vector<paxos::durable_state> after{synced};
    {
      wal_storage st{options(dir, 1 << 20)};
      st.load();
      synced_records = st.last_recovery().records;
      files = st.log().segment_files();
      synced_size = files.empty() ? 0 : file_size(dir / files.back());
      for (auto n = 1 + gen.below(10); n > 0; --n) {
        auto rd = gen.single_record();
        after.push_back(after.back());
        rd.persist_to(after.back());
        after.back() = without_covered(std::move(after.back()));
        st.append(rd);
      }
      // No sync: the destructor only writes the buffer out.
      ASSERT_EQ(st.log().segment_files().size(), std::max<std::size_t>(files.size(), 1));
      files = st.log().segment_files();
    }
    auto last = dir / files.back();
    auto full = file_size(last);
    auto cut = synced_size + gen.below(full - synced_size + 1);
    std::filesystem::resize_file(last, cut);
    if (gen.chance(0.5))
      std::filesystem::resize_file(last, cut + gen.below(100));  // zero fill
    auto expected = after.back();
    {
      wal_storage st{options(dir, 1 << 20)};
      auto state = st.load();
      auto kept = st.last_recovery().records - synced_records;
      ASSERT_LT(kept, after.size());
      ASSERT_TRUE(same_state(state, after[kept])) << "cut " << cut << " of " << full;
      // The recovered log takes appends again as if nothing had happened.
      expected = after[kept];
      auto rd = gen.single_record();
      rd.persist_to(expected);
      expected = without_covered(std::move(expected));
      st.append(rd);
      st.sync();
    }
    wal_storage st{options(dir, 1 << 20)};
    EXPECT_TRUE(same_state(st.load(), expected));
    EXPECT_FALSE(st.last_recovery().truncated());
  }
}

}  // namespace
