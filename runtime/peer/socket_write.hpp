#pragma once

#include <cstddef>

/// A frame written by the thread that sends it, without the transport's
/// event loop (see transport_options::direct_write_bytes).
namespace ballot::peer {

/// Writes what a connected socket takes of `size` bytes at `data` now,
/// without blocking and without SIGPIPE; returns how many it took. 0 when it
/// takes nothing: its buffer is full, or the connection failed, which the
/// loop that owns the socket then finds out for itself.
std::size_t write_now(int fd, const char* data, std::size_t size);

}  // namespace ballot::peer
