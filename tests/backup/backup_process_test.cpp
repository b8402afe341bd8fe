// Online backup and restore with real ballotd processes (issue 12, parts 5
// and 6): `ballotctl snapshot save` while clients write, `snapshot status`
// against what was written, `ballotd --restore` of three fresh nodes into a
// new cluster that holds exactly the keys of the backup's revision, and the
// old and the new cluster refusing each other's members (foreign_cluster).
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/backup/process_util.hpp"

namespace {

using namespace ballot::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

/// Every key of the cluster with its version, through node `id` (paged).
std::map<std::string, std::uint64_t> all_keys(cluster_processes& c, std::size_t id) {
  ballot::client::client cl{only(c, id, 10s)};
  std::map<std::string, std::uint64_t> out;
  std::string after;
  for (;;) {
    auto r = cl.list("", 0, after, false);
    EXPECT_TRUE(r.ok()) << ballot::kv::to_string(r.code);
    if (!r.ok())
      return out;
    for (auto& e : r.entries)
      out[e.key] = e.version;
    if (!r.truncated || r.entries.empty())
      return out;
    after = r.entries.back().key;
  }
}

/// Writers of unique keys (each written once, so a key's version is the
/// revision of its one put) until stopped.
class writers {
 public:
  writers(cluster_processes& c, int n) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this, &c, i] {
        ballot::client::client cl{c.client_options()};
        for (int k = 0; !stop_; ++k) {
          auto key = "load-" + std::to_string(i) + "-" + std::to_string(k);
          if (cl.put(key, std::string(200, 'v')).ok())
            ++acked_;
        }
      });
  }
  ~writers() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }
  int acked() const { return acked_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  std::vector<std::thread> threads_;
};

run_result ctl(const cluster_processes& c, std::vector<std::string> args) {
  std::vector<std::string> argv{BALLOTCTL_BIN, "--endpoints", joined_endpoints(c), "--timeout",
                                "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, 120s);
}

/// Replaces member 3 of `c` by a node of the cluster `foreign_id` and checks
/// that member 1 refuses it (foreign_cluster in /metrics) while `c` serves.
void check_refuses_foreign_member(cluster_processes& c, std::uint16_t metrics_port,
                                  const std::string& foreign_id, const std::string& tag) {
  auto before = dropped(metrics_port, "foreign_cluster");
  c.kill9(3);
  std::filesystem::remove_all(c.data_dir(3));
  c.node_flags[3] = {"--cluster-id", foreign_id};
  c.start(3);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (dropped(metrics_port, "foreign_cluster") <= before &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_GT(dropped(metrics_port, "foreign_cluster"), before) << tag;
  auto o = c.client_options();
  o.endpoints = {c.client_endpoint(1), c.client_endpoint(2)};
  o.timeout = 10s;
  ballot::client::client cl{o};
  EXPECT_TRUE(cl.put("after-foreign-" + tag, "yes").ok()) << tag;
  ballot::client::client through_foreign{only(c, 3)};
  EXPECT_FALSE(through_foreign.get("after-foreign-" + tag).ok()) << tag;
}

TEST(BackupProcessTest, SaveUnderLoadRestoresExactlyTheBackupsRevisionIntoANewCluster) {
  cluster_processes a;
  auto metrics_a = free_port();
  for (std::size_t id = 1; id <= 3; ++id)
    a.node_flags[id] = {"--cluster-token", "backup-A"};
  a.node_flags[1].insert(a.node_flags[1].end(),
                         {"--metrics", "127.0.0.1:" + std::to_string(metrics_a)});
  a.start_all();
  ASSERT_NE(a.leader(), 0u);
  write_keys(a, 50, "pre");
  auto file = (a.dir() / "backup.bin").string();
  run_result saved;
  {
    writers load{a, 3};
    while (load.acked() < 100)
      std::this_thread::sleep_for(10ms);
    saved = ctl(a, {"--json", "snapshot", "save", file});
    auto during = load.acked();
    while (load.acked() < during + 100)  // writes went on during and after the save
      std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(saved.code, std::optional<int>{0}) << saved.out << saved.err;
  auto s = json::parse(saved.out);
  auto revision = s["revision"].get<std::uint64_t>();
  EXPECT_FALSE(std::filesystem::exists(file + ".part"));

  // What A holds at the backup's revision: the keys (each written once)
  // whose version is at most it.
  std::map<std::string, std::uint64_t> expected;
  std::size_t later = 0;
  for (auto& [key, version] : all_keys(a, 1)) {
    if (version <= revision)
      expected[key] = version;
    else
      ++later;
  }
  EXPECT_GT(later, 0u) << "no write came after the backup's point";
  EXPECT_GE(expected.size(), 150u);

  auto st = ctl(a, {"--json", "snapshot", "status", file});
  ASSERT_EQ(st.code, std::optional<int>{0}) << st.out << st.err;
  auto status = json::parse(st.out);
  EXPECT_EQ(status["revision"].get<std::uint64_t>(), revision);
  EXPECT_EQ(status["keys"].get<std::uint64_t>(), expected.size());
  EXPECT_EQ(status["bytes"].get<std::uint64_t>(), std::filesystem::file_size(file));
  EXPECT_EQ(status["members"].get<std::uint64_t>(), 3u);
  EXPECT_EQ(status["cluster_id"].get<std::string>(), stored_cluster_id(a, 1));
  EXPECT_EQ(status["sha256"].get<std::string>().size(), 64u);

  // Three fresh nodes restored from the file: a new cluster with exactly
  // those keys and versions, which goes on from the backup's revision.
  cluster_processes b;
  auto metrics_b = free_port();
  for (std::size_t id = 1; id <= 3; ++id)
    b.node_flags[id] = {"--restore", file};
  b.node_flags[1].insert(b.node_flags[1].end(),
                         {"--metrics", "127.0.0.1:" + std::to_string(metrics_b)});
  b.start_all();
  auto id_b = stored_cluster_id(b, 1);
  EXPECT_EQ(stored_cluster_id(b, 2), id_b);
  EXPECT_NE(id_b, stored_cluster_id(a, 1));
  ASSERT_NE(b.leader(), 0u);
  EXPECT_EQ(all_keys(b, 2), expected);
  ballot::client::client cb{b.client_options()};
  auto put = cb.put("after-restore", "x");
  ASSERT_TRUE(put.ok());
  EXPECT_GT(put.version, revision);
  // Restarted without --restore, a restored member keeps its cluster id.
  b.kill9(2);
  b.node_flags[2] = {};
  b.start(2);
  EXPECT_EQ(stored_cluster_id(b, 2), id_b);
  // --restore into a data directory that is not empty: exit 2, nothing changed.
  auto again = run_program({BALLOTD_BIN, "--id", "1", "--peers", b.peers(1), "--client",
                            "127.0.0.1:" + std::to_string(free_port()), "--data-dir",
                            b.data_dir(1).string(), "--restore", file},
                           20s);
  EXPECT_EQ(again.code, std::optional<int>{2}) << again.err;
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;

  // The old and the new cluster refuse each other's members.
  auto id_a = stored_cluster_id(a, 1);
  check_refuses_foreign_member(b, metrics_b, id_a, "A's node in B");
  check_refuses_foreign_member(a, metrics_a, id_b, "B's node in A");
}

}  // namespace
