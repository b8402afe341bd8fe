#pragma once

#include <cstddef>
#include <string>
#include <vector>

/// A test network made of Linux network namespaces, so that each `ballotd` runs on its own
/// network stack and a partition is a link that goes down, not a process that is told to
/// ignore messages.
///
/// Layout (names carry the prefix `bt<pid>`, so that runs never collide and a crashed run's
/// leftovers can be told apart from a live run's):
///
///     bt<pid>hub   the bridge br0 and the hub ends of every veth pair (n1, n2, ..., c)
///     bt<pid>n<i>  node i: eth0 = 198.18.0.<10+i>/24, lo up
///     bt<pid>c     the test's clients: eth0 = 198.18.0.100/24, lo up
///
/// Every address is in 198.18.0.0/15 (reserved for network tests), and nothing of the test
/// network lives in the root namespace: the machine's own interface is on 192.0.2.0/24 with
/// its default route there, and test traffic must never reach it. The namespaces have no
/// default route, so they cannot reach anything but each other.
namespace ballot::testing::netns {

/// Why network-namespace tests cannot run here (not root, no `ip`, `ip netns add` refused),
/// or the empty string when they can.
std::string unavailable_reason();

/// The absolute path of `ip` from the base system.
std::string ip_binary();

/// Runs `ip ARGS...`; throws std::runtime_error with its stderr when it fails.
void ip(const std::vector<std::string>& args);

/// Like `ip`, returning stdout; throws when it fails.
std::string ip_output(const std::vector<std::string>& args);

/// Removes the namespaces of earlier runs with this naming scheme whose process is gone (a
/// run killed before its destructors ran). Namespaces of live runs are left alone.
void remove_leftovers();

class network {
 public:
  /// Builds the hub, `nodes` node namespaces and the client namespace. Removes what it had
  /// made and throws if any step fails.
  explicit network(std::size_t nodes);
  ~network();

  network(const network&) = delete;
  network& operator=(const network&) = delete;

  const std::string& prefix() const { return prefix_; }
  std::string hub() const { return prefix_ + "hub"; }
  std::string node_ns(std::size_t id) const { return prefix_ + "n" + std::to_string(id); }
  std::string client_ns() const { return prefix_ + "c"; }
  static std::string node_address(std::size_t id) { return "198.18.0." + std::to_string(10 + id); }
  static std::string client_address() { return "198.18.0.100"; }
  std::size_t nodes() const { return nodes_; }

  /// `ip netns exec NS`: put it before a command line to run that command in NS.
  std::vector<std::string> exec_in(const std::string& ns) const;

  /// Cuts node `id` off the bridge (its veth's hub end goes down): it keeps its own address
  /// and whatever runs in its namespace, but reaches nobody and nobody reaches it.
  void isolate(std::size_t id);
  /// Puts node `id` back on the bridge.
  void heal(std::size_t id);
  void heal_all();
  bool isolated(std::size_t id) const { return down_.at(id - 1); }

  /// Every namespace this network made, hub first.
  std::vector<std::string> namespaces() const;

 private:
  void teardown() noexcept;

  std::string prefix_;
  int sequence_ = -1;
  std::size_t nodes_;
  std::vector<bool> down_;
  std::vector<std::string> made_;
};

/// Moves the calling thread (only it) into a network namespace, and back when destroyed.
/// Sockets the thread opens meanwhile, and threads it starts meanwhile (a client's I/O
/// thread), belong to that namespace. Child processes forked meanwhile start in it too.
class scoped_netns {
 public:
  explicit scoped_netns(const std::string& ns);
  ~scoped_netns();
  scoped_netns(const scoped_netns&) = delete;
  scoped_netns& operator=(const scoped_netns&) = delete;

 private:
  int original_ = -1;
};

}  // namespace ballot::testing::netns
