// This consumer starts an embedded Ballot node (three replicas in this
// process) on a free port, writes and reads a key through the client
// library, and logs through Ballot's logger into its own sink: it exits 0
// only if all of that worked through the installed package.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "runtime/ballotd/node.hpp"
#include "runtime/ballotd/options.hpp"
#include "runtime/client/client.hpp"
#include "runtime/log/log.hpp"

/// A port nobody listens on now (the kernel's pick for port 0).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DATA_DIR\n");
    return 2;
  }
  std::vector<std::string> lines;
  ballot::logging::set_sink(
    [&lines](ballot::logging::level, const std::string& line) { lines.push_back(line); });
  auto parsed =
    ballot::ballotd::parse_options({"--client", "127.0.0.1:" + std::to_string(free_port()),
                                    "--data-dir", argv[1], "--metrics", "off"});
  if (!parsed.opts) {
    std::fprintf(stderr, "consumer: %s\n", parsed.error->message.c_str());
    return 2;
  }
  ballot::ballotd::node n{*parsed.opts};
  if (n.start() != 0)
    return 3;
  ballot::client::options o;
  o.endpoints = {n.client_endpoint()};
  ballot::client::client c{o};
  auto put = c.put("package", "works");
  auto got = c.get("package");
  n.stop();
  ballot::logging::set_sink(nullptr);
  bool elected = false;
  for (auto& l : lines)
    elected = elected || l.find("event=leader_elected") != std::string::npos;
  if (!put.ok() || !got.ok() || got.value != "works" || !elected) {
    std::fprintf(stderr, "consumer: put %d, get %d, value '%s', leader line %d\n", put.ok(),
                 got.ok(), got.value.c_str(), elected);
    return 1;
  }
  std::printf("consumer ok: value=%s log_lines=%zu\n", got.value.c_str(), lines.size());
  return 0;
}
