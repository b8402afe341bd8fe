// Deployment (issue 13, part 5): ballotd tells systemd READY=1 only once its
// client port answers (and never when it cannot serve), STOPPING=1 on
// SIGTERM; `systemd-analyze verify` accepts deploy/ballotd.service.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/process/cluster_fixture.hpp"

namespace {

using namespace ballot::testing;
namespace fs = std::filesystem;

/// A unix datagram socket the test owns, standing in for systemd's.
class notify_socket {
 public:
  explicit notify_socket(fs::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    ::unlink(path_.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind the notify socket " + path_.string());
  }
  ~notify_socket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  /// The next message, or "" if none came within `wait`.
  std::string receive(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
      return {};
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  int fd_ = -1;
};

bool port_answers(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// Starts ballotd with NOTIFY_SOCKET set (the child inherits it).
std::unique_ptr<process> start_notified(const notify_socket& sock, std::vector<std::string> argv) {
  ::setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  auto p = std::make_unique<process>(std::move(argv));
  ::unsetenv("NOTIFY_SOCKET");
  return p;
}

TEST(DeployTest, ReadyIsNotifiedOnlyOnceTheClientPortAnswersAndStoppingOnSigterm) {
  auto dir = fs::temp_directory_path() / ("ballot-notify-" + std::to_string(getpid()));
  fs::create_directories(dir);
  notify_socket sock{dir / "notify"};
  auto port = free_port();
  auto node = start_notified(sock, {BALLOTD_BIN, "--client", "127.0.0.1:" + std::to_string(port),
                                    "--data-dir", (dir / "data").string(), "--metrics", "off"});
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (got.find("READY=1") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    got = sock.receive(200ms);
  ASSERT_NE(got.find("READY=1"), std::string::npos) << node->err();
  // The moment systemd hears READY, clients are served: the port answers
  // and the ready line (SURFACE.md) is out.
  EXPECT_TRUE(port_answers(port));
  EXPECT_NE(node->out().find("ballotd ready id=embedded client=127.0.0.1:" + std::to_string(port)),
            std::string::npos)
    << node->out();
  node->kill(SIGTERM);
  std::string stopping;
  for (int i = 0; i < 50 && stopping.find("STOPPING=1") == std::string::npos; ++i)
    stopping = sock.receive(200ms);
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos);
  EXPECT_EQ(node->exit_code(20s), std::optional<int>{0}) << node->err();

  // A node that cannot serve (its client port is taken) never says READY.
  int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  int one = 1;
  ::setsockopt(taken, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  auto refused = start_notified(sock, {BALLOTD_BIN, "--client", "127.0.0.1:" + std::to_string(port),
                                       "--data-dir", (dir / "data2").string(), "--metrics", "off"});
  EXPECT_EQ(refused->exit_code(20s), std::optional<int>{2}) << refused->err();
  EXPECT_EQ(sock.receive(300ms).find("READY=1"), std::string::npos);
  ::close(taken);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DeployTest, SystemdAnalyzeVerifyAcceptsTheUnit) {
  const char* tool = "/usr/bin/systemd-analyze";
  if (::access(tool, X_OK) != 0)
    GTEST_SKIP() << "no " << tool << " here (Debian package systemd): the unit is not checked";
  std::ifstream in(std::string{SOURCE_DIR} + "/deploy/ballotd.service");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  auto unit = text.str();
  // verify checks that ExecStart's program exists: point it at this build's.
  auto at = unit.find("/usr/local/bin/ballotd");
  ASSERT_NE(at, std::string::npos);
  unit.replace(at, std::string{"/usr/local/bin/ballotd"}.size(), BALLOTD_BIN);
  auto dir = fs::temp_directory_path() / ("ballot-unit-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto path = dir / "ballotd.service";
  std::ofstream(path) << unit;
  process verify{{tool, "verify", path.string()}};
  auto code = verify.exit_code(60s);
  auto said = verify.out() + verify.err();
  std::error_code ec;
  fs::remove_all(dir, ec);
  EXPECT_EQ(code, std::optional<int>{0}) << said;
  // It exits 0 even for a line it ignores: any complaint about the file fails.
  EXPECT_EQ(said.find("ballotd.service"), std::string::npos) << said;
}

}  // namespace
