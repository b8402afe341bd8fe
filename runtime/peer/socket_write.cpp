#include "runtime/peer/socket_write.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <sys/types.h>

namespace ballot::peer {

std::size_t write_now(int fd, const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    auto n = ::send(fd, data + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EAGAIN: full; any other error: the loop's read or write sees it too
    }
  }
  return done;
}

}  // namespace ballot::peer
