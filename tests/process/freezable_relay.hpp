#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ballot::testing {

/// A TCP relay on 127.0.0.1 in front of one port, run by a thread of the
/// test process, that the test can freeze: frozen, it stops forwarding in
/// both directions but keeps every connection open (and accepts new ones
/// without forwarding them), which is what a client cut off from the
/// cluster by a partition sees: requests that never get an answer, no error.
class freezable_relay {
 public:
  explicit freezable_relay(std::uint16_t target_port) : target_port_(target_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof(addr);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listener_, 64) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("relay: cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~freezable_relay() {
    stop_ = true;
    thread_.join();
    for (auto& [a, b] : pairs_)
      close(a), close(b);
    close(listener_);
  }

  freezable_relay(const freezable_relay&) = delete;
  freezable_relay& operator=(const freezable_relay&) = delete;

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  void freeze() { frozen_ = true; }
  void thaw() { frozen_ = false; }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }

  void accept_one() {
    int in = accept(listener_, nullptr, nullptr);
    if (in < 0)
      return;
    int out = socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(target_port_);
    if (connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(in), close(out);
      return;
    }
    pairs_.emplace_back(in, out);
  }

  /// Copies what is readable on `from` to `to`; false when either end is done.
  static bool forward(int from, int to) {
    char buf[65536];
    auto n = read(from, buf, sizeof(buf));
    if (n <= 0)
      return false;
    for (ssize_t sent = 0; sent < n;) {
      auto m = send(to, buf + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
      if (m <= 0)
        return false;
      sent += m;
    }
    return true;
  }

  void run() {
    while (!stop_) {
      bool frozen = frozen_;
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      if (!frozen)
        for (auto& [a, b] : pairs_) {
          fds.push_back({a, POLLIN, 0});
          fds.push_back({b, POLLIN, 0});
        }
      if (poll(fds.data(), fds.size(), 10) <= 0)
        continue;
      if (fds[0].revents & POLLIN)
        accept_one();
      if (frozen)
        continue;
      std::vector<std::pair<int, int>> alive;
      for (std::size_t i = 0; i + 1 < fds.size(); i += 2) {
        auto [a, b] = pairs_[i / 2];
        bool ok = true;
        if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
          ok = forward(a, b);
        if (ok && (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)))
          ok = forward(b, a);
        if (ok)
          alive.emplace_back(a, b);
        else
          close(a), close(b);
      }
      // Pairs accepted during this turn come after the polled ones.
      alive.insert(alive.end(), pairs_.begin() + static_cast<std::ptrdiff_t>((fds.size() - 1) / 2),
                   pairs_.end());
      pairs_ = std::move(alive);
    }
  }

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::vector<std::pair<int, int>> pairs_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::thread thread_;
};

}  // namespace ballot::testing
