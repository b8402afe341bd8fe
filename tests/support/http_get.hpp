#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace ballot::testing {

/// An HTTP answer: the status code (0 when none came) and the body.
struct http_answer {
  int status = 0;
  std::string headers;
  std::string body;
};

/// GET http://127.0.0.1:port/path with `Connection: close`, read to the end
/// (bounded by `timeout` without news). Plain sockets, so tests need no HTTP
/// library of their own.
inline http_answer http_get(std::uint16_t port, const std::string& path,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  http_answer out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[16384];
  // Read until the body is complete (the server may keep the connection).
  auto complete = [&raw] {
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    auto at = raw.find("Content-Length: ");
    if (at == std::string::npos || at > end)
      return false;
    auto length = std::stoul(raw.substr(at + 16));
    return raw.size() >= end + 4 + length;
  };
  while (!complete()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos)
    return out;
  out.status = std::stoi(raw.substr(9, 3));
  out.headers = raw.substr(0, end);
  out.body = raw.substr(end + 4);
  return out;
}

}  // namespace ballot::testing
