#include "runtime/gateway/metered_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ballot::gateway {

metered_stream::metered_stream(kj::Own<kj::AsyncIoStream> inner, const kj::Timer& timer,
                               kj::TimePoint opened)
    : forwarding_stream(kj::mv(inner)), timer_(timer), opened_(opened), last_activity_(opened_) {}

kj::Promise<size_t> metered_stream::tryRead(void* buffer, size_t min_bytes, size_t max_bytes) {
  return inner().tryRead(buffer, min_bytes, max_bytes).then([this](size_t n) {
    if (n > 0) {
      heard_from_ = true;
      last_activity_ = timer_.now();
    }
    return n;
  });
}

kj::Promise<void> metered_stream::write(const void* buffer, size_t size) {
  return inner().write(buffer, size).then([this] { last_activity_ = timer_.now(); });
}

kj::Promise<void> metered_stream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  return inner().write(pieces).then([this] { last_activity_ = timer_.now(); });
}

std::string peer_address(kj::AsyncIoStream& stream) {
  sockaddr_storage addr{};
  kj::uint len = sizeof(addr);
  KJ_IF_MAYBE (e, kj::runCatchingExceptions(
                    [&] { stream.getpeername(reinterpret_cast<sockaddr*>(&addr), &len); })) {
    return "unknown";
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != nullptr)
      return text;
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)) != nullptr)
      return text;
  } else if (addr.ss_family == AF_UNIX) {
    return "unix";
  }
  return "unknown";
}

}  // namespace ballot::gateway
